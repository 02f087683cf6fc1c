from __future__ import annotations

import logging

from .masking import scrub_text

_FORMATTER = logging.Formatter()


class MaskPIIFilter(logging.Filter):
    """Masks ID numbers (18 and 15 digits) and phones (any spelling) in every log record before
    it is written: the message, the exception's traceback and the stack information."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            message = None
        if message is not None:
            scrubbed = scrub_text(message)
            if scrubbed != message or record.args:
                record.msg = scrubbed
                record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: the traceback is written scrubbed.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return True
