"""Every log path is scrubbed of phones (every spelling) and ID numbers (18 and 15 digits):
messages, exception text, the development server's and gunicorn's access logs, and the
audit rows of failed sign-ins."""

from __future__ import annotations

import datetime as dt
import io
import logging
import logging.config
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from qinghe.core.logging import MaskPIIFilter
from qinghe.core.masking import scrub_text
from qinghe.core.models import AuditLog


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("电话 13800138001", "电话 138****8001"),
        ("电话 +8613800138001", "电话 +86138****8001"),
        ("电话 +86 138 0013 8001", "电话 +86 138****8001"),
        ("电话 138-0013-8001", "电话 138****8001"),
        ("电话 138 0013 8001。", "电话 138****8001。"),
        ("电话 8613800138001", "电话 86138****8001"),
        ("电话 １３８００１３８００１", "电话 １３８****８００１"),
        ("/login?phone=%2B8613800138001&x=1", "/login?phone=%2B86138****8001&x=1"),
        ("/login?phone=138+0013+8001", "/login?phone=138****8001"),
        ("/login?phone=%20138%200013%208001", "/login?phone=%20138****8001"),
        ("身份证 440784199901011234", "身份证 440784********1234"),
        ("身份证 44078419990101123X", "身份证 440784********123X"),
        ("旧身份证 440784990101123", "旧身份证 440784******123"),
        ("id=４４０７８４１９９９０１０１１２３４", "id=４４０７８４********１２３４"),
    ],
)
def test_scrub_text_masks_every_spelling(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed


@pytest.mark.parametrize(
    "text",
    ["订单 12345 金额 1380", "时间戳 1733212800123", "2026-12-03 14:55:00", "岗位 30 个"],
)
def test_scrub_text_leaves_other_numbers_alone(text: str) -> None:
    assert scrub_text(text) == text


def _handler_output(logger_name: str, emit: Any) -> str:
    """Runs the project's LOGGING with the console handler writing into a buffer."""
    stream = io.StringIO()
    config: dict[str, Any] = {**settings.LOGGING}
    config["handlers"] = {
        name: {**handler, "stream": stream} for name, handler in config["handlers"].items()
    }
    logging.config.dictConfig(config)
    try:
        emit(logging.getLogger(logger_name))
    finally:
        logging.config.dictConfig(settings.LOGGING)
    return stream.getvalue()


def test_exception_text_is_scrubbed() -> None:
    def emit(logger: logging.Logger) -> None:
        try:
            raise ValueError("没有找到 440784199901011234 / 13800138001")
        except ValueError:
            logger.exception("导入失败 %s", "+86 138 0013 8001")

    out = _handler_output("qinghe.test", emit)
    assert "Traceback" in out
    assert "440784********1234" in out and "138****8001" in out
    assert "440784199901011234" not in out and "13800138001" not in out
    assert "0013 8001" not in out


def test_stack_info_is_scrubbed() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.stack_info = "Stack (most recent call last):\n  phone=13800138001"
    MaskPIIFilter().filter(record)
    assert record.stack_info == "Stack (most recent call last):\n  phone=138****8001"


def test_the_development_servers_access_log_is_scrubbed() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.info(
            '"%s" %s %s',
            "GET /accounts/login/?phone=13800138001&id=440784990101123 HTTP/1.1",
            200,
            5,
        )

    out = _handler_output("django.server", emit)
    assert "phone=138****8001" in out and "id=440784******123" in out
    assert "13800138001" not in out


def test_gunicorns_access_log_is_scrubbed() -> None:
    from gunicorn.config import Config

    from qinghe.core.gunicorn_logging import ScrubbingGunicornLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = ScrubbingGunicornLogger(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/talents/?q=13800138001",
        "PATH_INFO": "/api/v1/talents/",
        "QUERY_STRING": "q=13800138001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://x/?id=440784199901011234",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[("X-Phone", "+86 138 0013 8001")])
    atoms = logger.atoms(resp, req, environ, dt.timedelta(seconds=0))
    assert atoms["r"] == "GET /api/v1/talents/?q=138****8001 HTTP/1.1"
    assert atoms["q"] == "q=138****8001"
    assert atoms["f"] == "https://x/?id=440784********1234"
    assert atoms["{x-phone}i"] == "+86 138****8001"


def test_gunicorn_uses_the_scrubbing_logger_from_the_shipped_config() -> None:
    namespace: dict[str, Any] = {}
    exec((settings.BASE_DIR / "config" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102
    assert namespace["logger_class"] == "qinghe.core.gunicorn_logging.ScrubbingGunicornLogger"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["+86 138 0013 8001", "138-0013-8001", "+8613800138001"])
def test_failed_sign_ins_store_the_typed_phone_masked(typed: str) -> None:
    Client().post("/accounts/login/", {"username": typed, "password": "wrong-guess"})
    summary = AuditLog.objects.filter(action="login_failed").get().summary
    assert "****8001" in summary
    assert "0013" not in summary
