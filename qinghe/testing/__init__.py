"""Test helpers shared across apps: the world (world.py), recruiting steps (recruiting.py),
route walking for the authorisation tests (routes.py) and the fixtures (fixtures.py, a pytest
plugin registered by the root conftest.py)."""
