"""QINGHE_DB_BACKEND_NICE: a background process's PostgreSQL backends at its low priority."""

from __future__ import annotations

import os

import pytest
from django.db import connection, connections

from qinghe.core import dbpriority


def test_level_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dbpriority.ENV, raising=False)
    assert dbpriority.backend_nice() is None
    for raw, level in (("19", 19), ("5", 5), ("40", 19), ("-3", 0), (" 7 ", 7), ("x", None)):
        monkeypatch.setenv(dbpriority.ENV, raw)
        assert dbpriority.backend_nice() == level


def test_idle_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dbpriority.IDLE_ENV, raising=False)
    assert dbpriority.backend_idle() is False
    for raw, idle in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv(dbpriority.IDLE_ENV, raw)
        assert dbpriority.backend_idle() is idle


def test_only_a_local_postgres_process_of_this_connection(tmp_path: object) -> None:
    assert dbpriority.is_local_backend(os.getpid(), 5432) is False  # pytest, not postgres
    assert dbpriority.is_local_backend(2**22 + 12345, 5432) is False  # no such process


def test_never_raises_a_priority() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert dbpriority.lower(os.getpid(), max(0, mine - 1)) is True
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backends only")
@pytest.mark.django_db(transaction=True)
def test_new_connections_backend_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dbpriority.ENV, "19")
    monkeypatch.setenv(dbpriority.IDLE_ENV, "1")
    fresh = connections.create_connection("default")
    try:
        fresh.ensure_connection()  # connection_created → core/apps.py's receiver
        pid = int(fresh.connection.info.backend_pid)
        with fresh.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] == pid
        local = dbpriority.is_local_backend(pid, dbpriority._client_port(fresh.connection))
        if not local:
            pytest.skip("the test database server is not a process of this machine")
        try:
            os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, pid))
        except PermissionError:
            pytest.skip("no permission to change the server's priorities here")
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    finally:
        fresh.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backends only")
@pytest.mark.django_db(transaction=True)
def test_without_the_variable_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dbpriority.ENV, raising=False)
    fresh = connections.create_connection("default")
    try:
        fresh.ensure_connection()
        pid = int(fresh.connection.info.backend_pid)
        if not dbpriority.is_local_backend(pid, dbpriority._client_port(fresh.connection)):
            pytest.skip("the test database server is not a process of this machine")
        assert os.getpriority(os.PRIO_PROCESS, pid) == 0
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
    finally:
        fresh.close()
