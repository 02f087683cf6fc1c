"""A PostgreSQL server of our own for `make loadtest` and `make drills`: initdb in a folder of
ours, trust authentication on 127.0.0.1, a free port, so that restarting it or filling its
``max_connections`` disturbs nobody else on the machine (the shared server of .ci/postgres.sh
serves every test run and helper here).

    pg = PrivatePostgres()                               # throw-away, in /tmp
    pg = PrivatePostgres(keep=ROOT / "var" / "loadtest" / "pg")   # kept: reruns reuse the data
    ... pg.url (postgres://qinghe:qinghe@127.0.0.1:PORT/postgres) ...
    pg.stop()

A kept folder is stopped, not removed, so the next run starts on the same data (the load
test's prepared 100,000 talents). ``settings`` are passed to the server with ``-c`` each start
(e.g. ``fsync=off`` while seeding, on again for the measured run).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = (
    Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
    if Path("/usr/lib/postgresql").exists()
    else Path("/usr/bin")
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """initdb (once for a kept folder), then pg_ctl start on a free port."""

    def __init__(self, keep: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.kept = keep is not None
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            self.dir = keep
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="qinghe-private-pg-"))
        self.port = free_port()
        self.settings = {"listen_addresses": "127.0.0.1", "fsync": "off", **(settings or {})}
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.dir.chmod(0o700)
        self.data = self.dir / "data"
        self.fresh = not (self.data / "PG_VERSION").exists()
        if self.fresh:
            shutil.rmtree(self.data, ignore_errors=True)
            self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        if self.fresh:
            self.psql("CREATE ROLE qinghe LOGIN PASSWORD 'qinghe' CREATEDB")
        self.url = f"postgres://qinghe:qinghe@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(PG_BIN / tool), *args], check=True, capture_output=True
        )

    def psql(self, statement: str) -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-qAt", "-c", statement],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout.strip()

    def pg_ctl(self, *args: str) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self.run(
            "pg_ctl", "-D", str(self.data), "-w", "-t", "120", "-l", str(self.dir / "log"),
            "-o", f"-p {self.port} -k {self.dir} {options}", *args,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self, settings: dict[str, str] | None = None) -> tuple[float, float]:
        """Restarts fast (open connections are cut); returns (when it went down, seconds down)."""
        self.settings.update(settings or {})
        went_down = time.monotonic()
        self.pg_ctl("restart", "-m", "fast")
        while not self.ready():
            time.sleep(0.05)
        return went_down, time.monotonic() - went_down

    def ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
            return True
        return False

    def stop(self) -> None:
        """Stops the server; a throw-away folder is removed, a kept one stays (stopped cleanly,
        so its data is consistent for the next run)."""
        with contextlib.suppress(Exception):
            self.pg_ctl("stop", "-m", "fast" if self.kept else "immediate")
        if not self.kept:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
