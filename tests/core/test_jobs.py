from __future__ import annotations

from typing import Any

from sqlalchemy import event

from core.jobs import claim_next, create_job
from core.store import Store
from tests.conftest import transcript


def _write_transactions(store: Store) -> list[str]:
    """The write transactions begun on the store's engine from now on (SQLite: BEGIN IMMEDIATE)."""
    begun: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.strip().upper().startswith("BEGIN IMMEDIATE"):
            begun.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    return begun


def test_polling_an_empty_queue_takes_no_write_lock(store: Store) -> None:
    # Idle job workers poll several times a second; a write transaction per poll made every evaluation's commit
    # wait behind them.
    begun = _write_transactions(store)
    for _ in range(5):
        assert claim_next(store) is None
    assert begun == []


def test_a_queued_item_is_still_claimed_once(store: Store) -> None:
    conversation = transcript("坐席：您好。\n客户：你好。", conversation_id="j-1")
    create_job(store, tenant="default", subject="s", items=[(conversation, "h1")])
    begun = _write_transactions(store)
    claimed = claim_next(store)
    assert claimed is not None and claimed[1].id == "j-1" and claimed[2] == "h1"
    assert len(begun) == 1  # the compare-and-set
    assert claim_next(store) is None
