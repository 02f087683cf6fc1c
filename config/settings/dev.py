"""Local development and `make run`: DEBUG on, embedded SQLite unless DATABASE_URL says otherwise."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)

# The project's Chinese 404 page instead of Django's technical one (qinghe.core.middleware).
MIDDLEWARE = ["qinghe.core.middleware.DevelopmentNotFoundPageMiddleware", *MIDDLEWARE]  # noqa: F405
