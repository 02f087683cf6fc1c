"""A background process's database work at the process's own low CPU priority.

The task worker runs at ``Nice=10`` under SCHED_IDLE (deploy/systemd/qinghe-worker.service):
where it shares cores with the web workers, an import or a recompute takes only the CPU the
pages leave over. But half of an import's work is done by its PostgreSQL backends (inserting,
indexing, checking keys), and a backend is a process of the database server, forked at the
server's normal priority: under load it took a fair share of a busy core from the pages'
own backends and web workers (bench/loadtest.py --trace: 0.17 of 2 cores during the mix).

With ``QINGHE_DB_BACKEND_NICE=N`` (0-19) in a process's environment, every PostgreSQL
connection that process opens has its backend's nice level raised to N (its priority lowered;
never raised) as soon as it is opened — when the backend is a process of this machine (the
PID the server reports is a ``postgres`` process whose command line names this connection's
client port), and when the operating system allows it: lowering another user's process needs
CAP_SYS_NICE, which the worker's unit grants (``AmbientCapabilities=CAP_SYS_NICE``). Otherwise
(a database on another machine, no capability) nothing changes and the process logs it once.
The level is the backend's for its whole life: the worker's connections only ever serve
background work.

``QINGHE_DB_BACKEND_IDLE=1`` also puts the backend under SCHED_IDLE, as the worker itself is
(the worker's unit sets both). A nice level alone was not enough (bench/loadtest.py --trace):
a CPU running a nice-19 task does not count as idle when the kernel places a waking task, so a
page's waking web thread or backend queued behind busy work on the other core while this one
ran the import; a CPU running only SCHED_IDLE tasks counts as idle. A SCHED_IDLE backend holding
a lock that a page's backend waits for gets the CPU as soon as that backend sleeps on it."""

from __future__ import annotations

import logging
import os
import socket
import weakref
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENV = "QINGHE_DB_BACKEND_NICE"
IDLE_ENV = "QINGHE_DB_BACKEND_IDLE"

# connections (psycopg's) already seen: a pool hands the same one out again and again, each
# time with Django's connection_created
_seen: weakref.WeakSet[Any] = weakref.WeakSet()
_told = False


def backend_nice() -> int | None:
    """The level asked for in the environment (0-19), or None (unset or not a number)."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    try:
        level = int(raw)
    except ValueError:
        return None
    return min(19, max(0, level))


def backend_idle() -> bool:
    return os.environ.get(IDLE_ENV, "").strip() in {"1", "true", "yes"}


def _client_port(connection: Any) -> int | None:
    """This end's TCP port of a psycopg connection, None for a Unix socket."""
    sock = socket.socket(fileno=os.dup(connection.pgconn.socket))
    try:
        name = sock.getsockname()
    finally:
        sock.close()
    return int(name[1]) if isinstance(name, tuple) else None


def is_local_backend(pid: int, client_port: int | None) -> bool:
    """Whether ``pid`` is this machine's PostgreSQL backend of the connection from
    ``client_port`` (a Unix socket, None: any local backend of that PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    if not cmdline.startswith(b"postgres"):
        return False
    if client_port is None:
        return b"[local]" in cmdline
    return f"({client_port})".encode() in cmdline


def lower(pid: int, level: int, *, idle: bool = False) -> bool:
    """Raises the nice level of process ``pid`` to ``level`` (never lowers it), and with
    ``idle`` puts it under SCHED_IDLE. False when the operating system refuses."""
    try:
        if os.getpriority(os.PRIO_PROCESS, pid) < level:
            os.setpriority(os.PRIO_PROCESS, pid, level)
        if idle and os.sched_getscheduler(pid) != os.SCHED_IDLE:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:
        _tell(f"the database backend's priority was left as it is ({type(exc).__name__})")
        return False
    return True


def _tell(message: str) -> None:
    global _told
    if not _told:
        _told = True
        logger.info("%s: %s", ENV, message)


def connection_opened(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver (core/apps.py): a new PostgreSQL connection's backend
    at the process's level, when the environment asks for one."""
    level = backend_nice()
    if level is None or connection.vendor != "postgresql":
        return
    raw = connection.connection
    if raw in _seen:
        return
    _seen.add(raw)
    pid = int(raw.info.backend_pid)
    if not is_local_backend(pid, _client_port(raw)):
        _tell("the database server is not a process of this machine")
        return
    lower(pid, level, idle=backend_idle())
