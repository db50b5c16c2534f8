"""The relational database: declarative base, engine factory, clock. Table modules build on this."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase

from core.errors import StoreError


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


_WAL_SWITCH_SECONDS = 30.0


def _switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode, waiting (bounded) for processes that open a new database at the same moment.

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once, without its busy handler,
    when another connection holds a write lock at that moment (deadlock avoidance): two worker processes opening
    a fresh database together hit this. A database already in WAL needs no switch, so nothing waits then.
    """
    deadline = time.monotonic() + _WAL_SWITCH_SECONDS
    pause = 0.005
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # SQLAlchemy issues BEGIN itself (below), so the driver must not open transactions on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching to WAL needs a lock that another process may briefly hold.
    cursor.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cursor)
    # WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the last transactions.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


READ_ONLY = "zhijian_read_only"  # execution option: a transaction that only reads (see `_begin`)


def _begin(connection: Any) -> None:
    # A deferred transaction that reads, then writes, fails at once with "database is locked" when another
    # process wrote in between (WAL snapshot conflict); taking the write lock up front makes it wait instead
    # (busy_timeout), so two processes on one database never lose a write. A transaction that only reads needs
    # no lock in WAL: taking one would make every lookup of one process wait for the other's writes.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_db_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, NORMAL sync and foreign keys, and a file only its owner may read."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreError(f"not a database URL: {url!r} ({exc})") from None
    path = sqlite_path(url)
    if parsed.drivername.startswith("sqlite"):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
            os.chmod(path, 0o600)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the database driver {exc.name!r} for {parsed.drivername} is not installed: "
            "install the 'postgres' extra (pip install -e '.[postgres]')"
        ) from None
