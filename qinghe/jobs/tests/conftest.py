from qinghe.enterprises.tests.conftest import World, ref, world  # noqa: F401
