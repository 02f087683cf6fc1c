"""Settings shared by every environment. Everything that differs between machines comes
from environment variables (see docs/OPERATIONS.md for the full list)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_json(name: str) -> object:
    """A JSON value from the environment (None when unset); malformed JSON stops start-up."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from exc


SECRET_KEY = env("SECRET_KEY", "dev-insecure-qinghe-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # ASGI runserver (pages and websockets from one `manage.py runserver`); must come first.
    "daphne",
    "qinghe.core.thirdparty_apps.QingheAdminConfig",  # django.contrib.admin, Chinese names
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "qinghe.core.thirdparty_apps.OtpTotpConfig",  # django_otp.plugins.otp_totp
    "qinghe.core.thirdparty_apps.AxesConfig",  # axes
    "csp",
    "django_tasks",
    "qinghe.core.thirdparty_apps.TasksDatabaseConfig",  # django_tasks_db
    "ninja",
    "qinghe.core",
    "qinghe.accounts",
    "qinghe.reference",
    "qinghe.talents",
    "qinghe.enterprises",
    "qinghe.jobs",
    "qinghe.recruitment",
    "qinghe.plan",
    "qinghe.outreach",
    "qinghe.notifications",
    "qinghe.matching",
    "qinghe.events",
    "qinghe.fairs",
    "qinghe.scheduler",
    "qinghe.alliance",
    "qinghe.policies",
    "qinghe.exports",
    "qinghe.workbench",
    "qinghe.stations",
    "qinghe.cards",
    "qinghe.video",
    "channels",
    "qinghe.realtime",
    "qinghe.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "qinghe.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qinghe.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # before the CSRF check, whose read of request.POST would turn a broken body into a 500
    "qinghe.core.request_body.MalformedBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # who is asking and from where, for the audit writer (qinghe.core.context)
    "qinghe.core.context.RequestContextMiddleware",
    "qinghe.core.middleware.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qinghe.core.middleware.AccessPolicyMiddleware",
    "qinghe.core.middleware.TwoFactorMiddleware",
    # Turns a page's NotFound/PermissionDenied/ApplicationError/ValidationError into 404, 403,
    # or a message and a redirect; needs the messages middleware above; not for /api/.
    "qinghe.core.errorhandling.DomainErrorMiddleware",
    # axes must be last: it turns lockouts into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "qinghe.core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'qinghe.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server write without locking each other out.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT for the application's connections: its queries are short, and on the plan board
    # PostgreSQL spent 0.6-0.9 s compiling one count it over-estimated (docs/SCALING.md).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "qinghe.accounts.backends.UsernameOrPhoneBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: 5 failures for the same user from the same IP lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# one count per account whatever spelling of the phone was typed (qinghe/accounts/lockout.py)
AXES_USERNAME_CALLABLE = "qinghe.accounts.lockout.axes_username"
# the real client behind a trusted reverse proxy, else the peer (qinghe/core/network.py)
AXES_CLIENT_IP_CALLABLE = "qinghe.core.network.axes_client_ip"
# Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR networks, comma-separated.
# Empty (the default) ignores the header: the peer address is the client.
QINGHE_TRUSTED_PROXIES = env_list("QINGHE_TRUSTED_PROXIES")
AXES_VERBOSE = False

# Sessions: students keep two weeks; staff roles expire after 30 idle minutes
# (StaffSessionMiddleware pushes the expiry forward at most once every
# STAFF_SESSION_PUSH_SECONDS, so a staff session ends 29-30 idle minutes after its last request).
SESSION_COOKIE_AGE = 14 * 24 * 3600
STAFF_SESSION_IDLE_SECONDS = 30 * 60
STAFF_SESSION_PUSH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag instead

# Two-factor authentication for staff roles. Enforced in production; optional elsewhere.
QINGHE_REQUIRE_STAFF_2FA = env_bool("QINGHE_REQUIRE_STAFF_2FA", False)

# Matching: points per criterion, e.g. QINGHE_MATCHING_WEIGHTS='{"major": 40, "salary": 5}'
# (names: qinghe.matching.scoring.Weights; checked at start-up by the matching.E001 check).
MATCHING_WEIGHTS = env_json("QINGHE_MATCHING_WEIGHTS")
OTP_TOTP_ISSUER = "青鹤 Qinghe"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's output; nginx serves it at /static/ (deploy/nginx/qinghe.conf).
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (encrypted survey uploads, rejected-rows files); backed up by `make backup`.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Django's caches (docs/SCALING.md, "Page caches"):
# - "default": in each process's memory, for page fragments that are the same for every viewer
#   and may be minutes old (the job search's filter options).
# - "fragments": in each process's memory, for rendered parts of pages kept under a version
#   (qinghe/core/fragments.py): 为你推荐's list per student, the job search's result ids per
#   query. A process restart (a deploy) empties it, so no fragment outlives the code that drew it.
# - "versions": the version tokens those keys carry, bumped when what they show changes. Every
#   process must see a bump at once, the task worker's and the scheduler's too (they run the
#   recompute and the expiry): in Redis when QINGHE_REDIS_URL is set (production; the same
#   Redis as the channel layer, below), else in files under QINGHE_VERSIONS_DIR (var/cache/
#   versions: every process of one machine, as `make run` starts them). The tests keep them in
#   memory (config/settings/test.py).
QINGHE_REDIS_URL = env("QINGHE_REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "qinghe",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "qinghe-fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 3000},
    },
    # the unread badge of 我的消息 per user, kept under the user's inbox version
    # (core/context_processors.py): in each process's memory, at most an hour
    "badges": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "qinghe-badges",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 10000},
    },
    "versions": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": QINGHE_REDIS_URL,
            "KEY_PREFIX": "qinghe-versions",
            "TIMEOUT": None,
        }
        if QINGHE_REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("QINGHE_VERSIONS_DIR", str(BASE_DIR / "var" / "cache" / "versions")),
            "TIMEOUT": None,
            # one token per name: the shared ones and one per talent whose list was refreshed
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    ),
    # Kept values that every process would otherwise count again (core/fragments.py,
    # ``kept(..., shared=True)``: the staff talent list's counts and page ids): Redis, else
    # files shared by the machine's processes; keys carry a fingerprint of the code.
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": QINGHE_REDIS_URL,
            "KEY_PREFIX": "qinghe-shared",
            "TIMEOUT": 3600,
        }
        if QINGHE_REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("QINGHE_SHARED_CACHE_DIR", str(BASE_DIR / "var" / "cache" / "shared")),
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    ),
}
# Sessions are rows of django_session. With Redis (production: every web process shares it),
# they are also kept in it (Django's cached_db engine): a request reads its session from
# Redis, not PostgreSQL; every write, sign-out and key rotation goes to both, and deletes the
# Redis copy, so a sign-out in one process reaches every other at once. A session missing
# from Redis (restarted, evicted, unreachable) is read from the database. Without Redis the
# database alone: a cache in each process's memory would keep a signed-out session alive in
# the other processes.
if QINGHE_REDIS_URL:
    CACHES["sessions"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": QINGHE_REDIS_URL,
        "KEY_PREFIX": "qinghe-sessions",
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Security headers on every response.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
# Pages that scan a QR code with the phone camera (the card partner page, the event door).
PERMISSIONS_POLICY_CAMERA = "camera=(self), microphone=(), geolocation=(), payment=()"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Field encryption for personal information (AES-256-GCM) and the keyed hash (HMAC-SHA256)
# used as a blind index. Both keys are 32 random bytes, base64-encoded. Development uses
# fixed keys; production refuses to start without real ones.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLXh4eHg=")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LTMyYnl0ZXM=")

# Background work: Django's tasks API through the django-tasks backport.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Real time (Django Channels, qinghe/realtime): pages and websockets are served by one ASGI
# application (config/asgi.py). One process keeps its groups in memory, which is all the
# embedded `make run` needs; several processes (production) share groups through Redis:
# QINGHE_REDIS_URL=redis://127.0.0.1:6379/1 (docs/OPERATIONS.md).
ASGI_APPLICATION = "config.asgi.application"
# Broadcast rooms (a live stream's viewers, qinghe/realtime/broadcast.py) travel on the
# "broadcast" layer: Redis pub/sub by default (one PUBLISH per push, fanned out in each worker);
# QINGHE_BROADCAST_LAYER=core carries them on the default list-based layer instead.
QINGHE_BROADCAST_LAYER = env("QINGHE_BROADCAST_LAYER", "pubsub")
if QINGHE_REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that
            # channels_redis blocks in BZPOPMIN: an idle socket's receive then failed with
            # TimeoutError and closed the socket (seen in bench/bench_live_questions.py).
            "CONFIG": {
                "hosts": [{"address": QINGHE_REDIS_URL, "socket_timeout": 30}],
                "prefix": "qinghe",
                "capacity": 1000,
            },
        }
    }
    if QINGHE_BROADCAST_LAYER == "pubsub":
        CHANNEL_LAYERS["broadcast"] = {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [QINGHE_REDIS_URL], "prefix": "qinghe-broadcast"},
        }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# 直播带岗 (qinghe/live): the path under which the self-hosted ingest (nginx RTMP module) serves
# its HLS playlists on this site; a stream's HLS URL is either an http(s) .m3u8 address from a
# provider or a path under this prefix (docs/OPERATIONS.md).
QINGHE_LIVE_INGEST_PATH = env("QINGHE_LIVE_INGEST_PATH", "/hls/")

# Audit entries are kept at least this long; the purge command refuses anything shorter.
AUDIT_RETENTION_DAYS = int(env("AUDIT_RETENTION_DAYS", "190") or 190)

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "qinghe@heshan.gov.cn")

# Text messages (registration codes): a dotted path to a class with send(phone, text).
# The console sender only logs (phone masked); production names the SMS gateway's client.
SMS_SENDER = env("SMS_SENDER", "qinghe.accounts.sms.ConsoleSmsSender")

# Notifications (qinghe.notifications): provider endpoints and the delivery worker's retries.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
# WebRTC ICE servers for the video interviews (qinghe.video), a JSON list of RTCIceServer
# objects, e.g. [{"urls": "turn:turn.example.gov.cn:3478", "username": "u", "credential": "p"}].
# Empty (the default) works on a LAN and on localhost; production: coturn (docs/OPERATIONS.md).
QINGHE_ICE_SERVERS = json.loads(env("QINGHE_ICE_SERVERS", "[]"))
# Video interview recordings (only when both sides agreed): kept encrypted this many days after
# the recording began, then deleted by the purge_video_recordings job; one recording at most
# QINGHE_VIDEO_RECORDING_MAX_MB (the browser uploads it in chunks of at most 4 MB).
QINGHE_VIDEO_RECORDING_RETENTION_DAYS = int(
    env("QINGHE_VIDEO_RECORDING_RETENTION_DAYS", "90") or 90
)
QINGHE_VIDEO_RECORDING_MAX_MB = int(env("QINGHE_VIDEO_RECORDING_MAX_MB", "1024") or 1024)
NOTIFY_SMS = {
    "BASE_URL": env("NOTIFY_SMS_BASE_URL", "https://dysmsapi.aliyuncs.com"),
    "ACCESS_KEY_ID": env("NOTIFY_SMS_ACCESS_KEY_ID", ""),
    "ACCESS_KEY_SECRET": env("NOTIFY_SMS_ACCESS_KEY_SECRET", ""),
    "SIGN_NAME": env("NOTIFY_SMS_SIGN_NAME", "鹤山人社"),
    "TEMPLATE_CODE": env("NOTIFY_SMS_TEMPLATE_CODE", "SMS_000000"),
    # Template of sign-up and sign-in codes (accounts.sms.AliyunSmsSender), one ${code} parameter.
    "CODE_TEMPLATE_CODE": env("NOTIFY_SMS_CODE_TEMPLATE_CODE", ""),
}
# The official account (公众号): web authorisation (WeChat sign-in and binding, accounts.wechat)
# and template messages (notifications) use the same app id and secret. The endpoints default
# to WeChat's own; tests and the browser tests point them at the local fake
# (notifications.fakes.FakeWechat). Sign-in with WeChat is offered only when enabled;
# production refuses to start enabled without the app id and secret.
QINGHE_WECHAT_ENABLED = env_bool("QINGHE_WECHAT_ENABLED", False)
QINGHE_WECHAT_APPID = env("QINGHE_WECHAT_APPID", env("NOTIFY_WECHAT_APP_ID", ""))
QINGHE_WECHAT_SECRET = env("QINGHE_WECHAT_SECRET", env("NOTIFY_WECHAT_APP_SECRET", ""))
QINGHE_WECHAT_AUTHORIZE_URL = env(
    "QINGHE_WECHAT_AUTHORIZE_URL", "https://open.weixin.qq.com/connect/oauth2/authorize"
)
QINGHE_WECHAT_API_BASE = env(
    "QINGHE_WECHAT_API_BASE", env("NOTIFY_WECHAT_BASE_URL", "https://api.weixin.qq.com")
)
# snsapi_base: the openid without a consent screen; snsapi_userinfo asks the user first.
QINGHE_WECHAT_SCOPE = env("QINGHE_WECHAT_SCOPE", "snsapi_base")
# The signed state of an authorisation is good for this long, and once.
QINGHE_WECHAT_STATE_MAX_AGE = int(env("QINGHE_WECHAT_STATE_MAX_AGE", "300") or 300)
NOTIFY_WECHAT: dict[str, Any] = {
    "BASE_URL": QINGHE_WECHAT_API_BASE,
    "APP_ID": QINGHE_WECHAT_APPID,
    "APP_SECRET": QINGHE_WECHAT_SECRET,
    "TEMPLATE_ID": env("NOTIFY_WECHAT_TEMPLATE_ID", ""),
    # {"recruitment.stage_changed": "<template id>", ...}: a kind's own template, as JSON
    "TEMPLATES": env_json("NOTIFY_WECHAT_TEMPLATES") or {},
}
NOTIFY_MAX_ATTEMPTS = int(env("NOTIFY_MAX_ATTEMPTS", "8") or 8)
NOTIFY_RETRY_BASE_SECONDS = int(env("NOTIFY_RETRY_BASE_SECONDS", "30") or 30)
NOTIFY_RETRY_CAP_SECONDS = int(env("NOTIFY_RETRY_CAP_SECONDS", "3600") or 3600)
# An attempt without a recorded outcome is asked about (status query) only once it is older
# than any provider call can last (HTTP timeout 10 s, one reconnect) plus Aliyun's reporting lag.
NOTIFY_INFLIGHT_SECONDS = float(env("NOTIFY_INFLIGHT_SECONDS", "120") or 120)
# Liaison work: no successful contact for this many days puts a student on the lost list;
# consultations are answered within this many hours.
OUTREACH_LOST_CONTACT_DAYS = int(env("OUTREACH_LOST_CONTACT_DAYS", "90") or 90)
OUTREACH_CONSULTATION_SLA_HOURS = int(env("OUTREACH_CONSULTATION_SLA_HOURS", "72") or 72)
# Full phones / ID numbers a liaison or station staff member may see a day (talents.unmasking).
QINGHE_UNMASK_LIMIT_PER_DAY = int(env("QINGHE_UNMASK_LIMIT_PER_DAY", "50") or 50)

# A student's PDF résumé (talents/resume.py), checked by content and stored encrypted.
QINGHE_RESUME_MAX_BYTES = int(env("QINGHE_RESUME_MAX_BYTES", str(5 * 1024 * 1024)) or 5242880)

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "qinghe.core.logging.MaskPIIFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # runserver's access log (Django's default handler for it is not scrubbed): query
        # strings carry phones and ID numbers
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        # requests' connection pool logs every URL at DEBUG: WeChat's token endpoint takes the
        # app secret and the one-time code in the query string
        "urllib3": {"level": "WARNING"},
    },
}

# Survey files at rest (qinghe/talents/importing/storage.py): owner-only permissions for
# everything written to MEDIA_ROOT, and the retention of import uploads and rejected-rows
# files (purge_import_files, daily). A finished import's upload is not needed any more and
# goes after QINGHE_IMPORT_DONE_UPLOAD_RETENTION_DAYS.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
QINGHE_IMPORT_FILE_RETENTION_DAYS = int(env("QINGHE_IMPORT_FILE_RETENTION_DAYS", "30") or 30)
QINGHE_IMPORT_DONE_UPLOAD_RETENTION_DAYS = int(
    env("QINGHE_IMPORT_DONE_UPLOAD_RETENTION_DAYS", "1") or 1
)

# Background exports (qinghe/exports): a list of more rows than this is written by the worker
# with a progress page; its file is kept encrypted for QINGHE_EXPORT_RETENTION_HOURS and then
# deleted by purge_exports (hourly); a running export without progress for
# QINGHE_EXPORT_STALE_MINUTES lost its worker and is marked failed.
QINGHE_EXPORT_BACKGROUND_ROWS = int(env("QINGHE_EXPORT_BACKGROUND_ROWS", "2000") or 2000)
QINGHE_EXPORT_RETENTION_HOURS = int(env("QINGHE_EXPORT_RETENTION_HOURS", "24") or 24)
QINGHE_EXPORT_STALE_MINUTES = int(env("QINGHE_EXPORT_STALE_MINUTES", "15") or 15)

# The task worker's heartbeat (qinghe.scheduler.reaper): every QINGHE_TASK_HEARTBEAT_SECONDS
# while it lives; a RUNNING task whose worker has not been seen for
# QINGHE_TASK_WORKER_STALE_SECONDS is failed by the reaper (and run again once when safe).
QINGHE_TASK_HEARTBEAT_SECONDS = float(env("QINGHE_TASK_HEARTBEAT_SECONDS", "15") or 15)
QINGHE_TASK_WORKER_STALE_SECONDS = float(env("QINGHE_TASK_WORKER_STALE_SECONDS", "90") or 90)

# 鹤才青年卡 application materials (labour contract, the employer's stamped form, degree and
# qualification certificates; a dependant's relation and identity proofs) are kept encrypted
# for review and for complaints about the decision, then deleted this many days after the
# application was decided (approved, or rejected/withdrawn) by the daily job
# purge_card_materials (qinghe/cards/purge.py). The issue names no period; 180 days covers an
# administrative reconsideration (60 days) and litigation (6 months) against the decision.
QINGHE_CARD_MATERIAL_RETENTION_DAYS = int(env("QINGHE_CARD_MATERIAL_RETENTION_DAYS", "180") or 180)

# The 鹤才青年卡's e-card (qinghe/cards/tokens.py): a JSON list of private Ed25519 JWKs
# ({"kty": "OKP", "crv": "Ed25519", "x": ..., "d": ..., "kid": ...}); the first signs, every
# one is published at /.well-known/jwks.json (rotation: put the new key first, drop the old
# one after the display tokens it signed have run out). Unset: a key derived from SECRET_KEY
# (development and tests only; production refuses to start without it).
QINGHE_CARD_SIGNING_KEYS = env("QINGHE_CARD_SIGNING_KEYS", "") or ""
# Event check-in codes (qinghe/events/checkin.py): the same JWK list format, its own keys; the
# first signs, the public part of all is handed to door phones for offline verification (keep
# an old key listed until the events whose codes it signed are over). Unset: a key derived
# from SECRET_KEY (development and tests only; production refuses to start without it).
# Subsidy application materials of rejected or withdrawn applications are deleted this many
# days after the decision (qinghe.policies.services.materials_purge, daily); approved ones are
# kept as the evidence behind the payments.
QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS = int(
    env("QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS", "180") or 180
)
QINGHE_EVENT_SIGNING_KEYS = env("QINGHE_EVENT_SIGNING_KEYS", "") or ""
