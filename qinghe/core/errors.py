"""One error vocabulary. Services raise django.core.exceptions.ValidationError for bad fields
and ApplicationError (or a subclass) for broken rules; pages and the API map them to
400/403/404 in one place each (qinghe.core.errorhandling.DomainErrorMiddleware and config.api)."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule was broken. The message is shown to the user, in Chinese."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    status_code = 403


class NotFound(ApplicationError):
    """Raised alike for missing and forbidden objects, so nobody learns what exists."""

    status_code = 404

    def __init__(self, message: str = "未找到该记录", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


def validation_message(exc: Any) -> str:
    """A django ValidationError as one Chinese line for a page message."""
    if hasattr(exc, "error_dict"):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(exc.messages)
