"""Atomic writes (all or nothing, ordinary permissions) and SQLite journals under locks."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from nasbench_tools.errors import BusyError, FormatError
from nasbench_tools.io import atomic_path, atomic_write_text, open_sqlite


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_an_interrupted_rewrite(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("new")
        raise KeyboardInterrupt
    assert target.read_text() == "old"


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


_SCHEMA = "CREATE TABLE IF NOT EXISTS t (a, b);"


def _locked(path: Path) -> sqlite3.Connection:
    """A connection that holds an exclusive lock on ``path`` (a writer mid-transaction)."""
    con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    con.execute("CREATE TABLE IF NOT EXISTS t (a, b)")
    con.execute("BEGIN EXCLUSIVE")
    return con


def test_a_locked_journal_is_busy_not_damaged(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    holder = _locked(path)
    try:
        with pytest.raises(BusyError, match="stayed locked by another process") as err:
            open_sqlite(path, schema=_SCHEMA, columns={"t": ["a", "b"]}, timeout=0.3)
        assert str(path) in str(err.value) and not isinstance(err.value, FormatError)
    finally:
        holder.close()


def test_a_lock_released_in_time_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    holder = _locked(path)
    releaser = threading.Timer(0.3, holder.rollback)
    releaser.start()
    try:
        con = open_sqlite(path, schema=_SCHEMA, columns={"t": ["a", "b"]}, timeout=20)
        assert [r[1] for r in con.execute("PRAGMA table_info(t)")] == ["a", "b"]
        con.close()
    finally:
        releaser.join()
        holder.close()


def test_immediate_lock_errors_are_retried(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # the race of two processes switching a new file to WAL fails at once, without
    # SQLite's busy handler; it must be retried, not reported as an unreadable file
    from nasbench_tools import io

    real = io._connect_checked
    failures = iter([sqlite3.OperationalError("database is locked")] * 3)

    def flaky(*args: object, **kwargs: object) -> sqlite3.Connection:
        for exc in failures:
            raise exc
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(io, "_connect_checked", flaky)
    con = open_sqlite(tmp_path / "j.sqlite", schema=_SCHEMA, columns={"t": ["a", "b"]})
    assert next(failures, None) is None
    con.close()
