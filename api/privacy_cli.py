"""`zhijian privacy …`: erase a conversation, or everything older than the retention period (个人信息保护法 第47条)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from api.options import settings_from_options
from api.render import console
from core.settings import Settings

privacy = typer.Typer(help="Erasure and retention of personal data.", no_args_is_help=True)
out = console()
err = console(stderr=True)


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    return settings_from_options(data_dir, database_url)


def forget_checkpoints(path: Path, *, tenant: str, conversation_id: str) -> int:
    """Delete unfinished QM runs of a conversation from the checkpoint file; returns how many threads."""
    if not path.exists():
        return 0
    prefix = f"qm:{tenant}|{conversation_id}|"
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
        if "checkpoints" not in tables:
            return 0
        rows = db.execute(
            "select distinct thread_id from checkpoints where substr(thread_id, 1, ?) = ?", (len(prefix), prefix)
        )
        threads = [r[0] for r in rows]
        for thread in threads:
            for table in ("checkpoints", "writes"):
                if table in tables:
                    db.execute(f"delete from {table} where thread_id = ?", (thread,))  # table names are ours
    return len(threads)


@privacy.command()
def forget(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    tenant: Annotated[str, typer.Option(help="Its tenant.")] = "default",
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded databases live.")] = None,
    database_url: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL.")] = None,
) -> None:
    """Erase every stored version of a conversation: text, PII vault, evaluations, findings, tickets, checkpoints."""
    from graphs.wiring import open_store

    settings = _settings(data_dir, database_url)
    store = open_store(settings)
    erased = store.delete_conversation(tenant=tenant, conversation_id=conversation_id)
    threads = forget_checkpoints(settings.resolved_checkpoint_path, tenant=tenant, conversation_id=conversation_id)
    store.engine.dispose()
    if not erased and not threads:
        err.print(f"no conversation {conversation_id!r} in tenant {tenant!r}")
        raise typer.Exit(1)
    out.print(f"erased {erased} stored version(s) of {conversation_id} and {threads} unfinished run(s)")


@privacy.command()
def purge(
    days: Annotated[int | None, typer.Option(help="Keep this many days (default: ZHIJIAN_RETENTION_DAYS).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded databases live.")] = None,
    database_url: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL.")] = None,
) -> None:
    """Erase conversations received longer ago than the retention period, with everything derived from them."""
    from graphs.wiring import open_store

    settings = _settings(data_dir, database_url)
    keep = days if days is not None else settings.retention_days
    if keep is None or keep < 1:
        err.print("no retention period: pass --days N or set ZHIJIAN_RETENTION_DAYS")
        raise typer.Exit(2)
    store = open_store(settings)
    erased = store.purge_older_than(keep)
    store.engine.dispose()
    out.print(f"erased {erased} conversation version(s) older than {keep} days")
