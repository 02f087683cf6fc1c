"""Fast, deterministic settings for the test suite."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("TEST_SQLITE_PATH", ":memory:"),
        "TEST": {"NAME": env("TEST_SQLITE_PATH", None)},
    }
    if os.environ.get("TEST_SQLITE_PATH"):
        # A database file, as deployed (WAL, the write lock taken at BEGIN): what the tests of
        # two connections at once need (e.g. an import's chunks overlapping).
        DATABASES["default"]["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }

# Argon2 is the real hasher (base and production); a fast one keeps fixtures quick here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# Version tokens of kept page parts in each test process's memory (base.py keeps them in files
# shared by a machine's processes; parallel test workers must not share them).
CACHES["shared"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "qinghe-shared",
}
CACHES["versions"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "qinghe-versions",
    "TIMEOUT": None,
}

LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # noqa: F405
