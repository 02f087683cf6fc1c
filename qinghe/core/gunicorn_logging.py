"""gunicorn's access log, scrubbed: the request line, query string, referer and headers can
carry phones and ID numbers (a search for a phone, a sign-in link). ``config/gunicorn.conf.py``
selects this logger class; gunicorn's own error log goes through the same scrubber."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gunicorn.glogging import Logger

from .masking import scrub_text


class ScrubbingGunicornLogger(Logger):  # type: ignore[misc]
    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: dt.timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: scrub_text(v) if isinstance(v, str) else v for k, v in atoms.items()}

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().error(scrub_text(str(msg)), *args, **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().exception(scrub_text(str(msg)), *args, **kwargs)
