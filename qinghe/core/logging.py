from __future__ import annotations

import logging

from .masking import scrub_text


class MaskPIIFilter(logging.Filter):
    """Masks ID numbers and phone numbers in every log record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        scrubbed = scrub_text(message)
        if scrubbed != message or record.args:
            record.msg = scrubbed
            record.args = None
        return True
