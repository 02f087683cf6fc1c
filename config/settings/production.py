"""Production: PostgreSQL, HTTPS behind a reverse proxy, 2FA for staff, real keys required.

Required environment: SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS, FIELD_ENCRYPTION_KEY,
BLIND_INDEX_KEY, QINGHE_CARD_SIGNING_KEYS, QINGHE_EVENT_SIGNING_KEYS. Sign-up codes need a real SMS sender: SMS_SENDER and the NOTIFY_SMS_*
variables, or ``check --deploy`` fails (accounts.E001/E004). See docs/OPERATIONS.md.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = False

for _name in (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "BLIND_INDEX_KEY",
    "DATABASE_URL",
    "QINGHE_CARD_SIGNING_KEYS",
    "QINGHE_EVENT_SIGNING_KEYS",
):
    if not env(_name):
        raise ImproperlyConfigured(f"environment variable {_name} is required in production")

QINGHE_REQUIRE_STAFF_2FA = env_bool("QINGHE_REQUIRE_STAFF_2FA", True)

# PostgreSQL through a connection pool per process (Django's psycopg_pool support), not a
# connection per request and not CONN_MAX_AGE: under ASGI each request's sync code runs in its
# own thread, so "persistent" connections are neither reused nor closed in time and a crowd
# exhausts max_connections (the first load test: "too many clients"). Size it so that
# web workers × QINGHE_DB_POOL_MAX + the task, outbox and scheduler processes × their pool
# stays under the server's max_connections (docs/OPERATIONS.md, "Database connections").
# A request waits up to QINGHE_DB_POOL_TIMEOUT seconds for a free connection, then fails
# (a 500 page, and the error is logged).
# Each connection is checked as it is lent (one round trip): after a restart of PostgreSQL the
# pool's dead connections are replaced instead of failing one request each.
# (Django passes psycopg_pool's check_connection when CONN_HEALTH_CHECKS is on.)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 - the pool keeps the connections
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
    DATABASES["default"]["OPTIONS"]["pool"] = {  # noqa: F405
        "min_size": int(env("QINGHE_DB_POOL_MIN", "2")),
        "max_size": int(env("QINGHE_DB_POOL_MAX", "8")),
        "timeout": float(env("QINGHE_DB_POOL_TIMEOUT", "10")),
        "max_idle": 300,
    }

if QINGHE_WECHAT_ENABLED and not (QINGHE_WECHAT_APPID and QINGHE_WECHAT_SECRET):  # noqa: F405
    raise ImproperlyConfigured(
        "QINGHE_WECHAT_ENABLED is on: QINGHE_WECHAT_APPID and QINGHE_WECHAT_SECRET are required"
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-qinghe-session"
CSRF_COOKIE_NAME = "__Host-qinghe-csrf"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TEMPLATES[0]["OPTIONS"]["loaders"] = [  # noqa: F405
    (
        "django.template.loaders.cached.Loader",
        [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    )
]
TEMPLATES[0]["APP_DIRS"] = False  # noqa: F405
