from qinghe.enterprises.tests.conftest import ref, world  # noqa: F401
