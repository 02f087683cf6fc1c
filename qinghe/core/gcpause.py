"""``gc_paused()``: the cyclic garbage collector off for a block of bulk work.

A chunk of an import or of a full recompute creates a few hundred thousand short-lived
objects (rows, reasons) and no reference cycles; the collector would only rescan them, and
every long-lived fact held in memory, again and again (about a tenth of the time). Reference
counting still frees everything; the collector is switched back on (if it was on) at the end."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
