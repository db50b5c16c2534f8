"""The batch path's writes: gathered per chunk, stored in one transaction, lookups without the write lock."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import func, select

from agents.qm.context import QMContext
from core.db import sqlite_path
from core.models import Conversation, Evaluation
from core.store import ConversationRow, EvaluationRow, PiiVaultRow, Store, TicketRow
from core.store_batch import BufferedStore
from graphs.supervisor import Evaluator
from tests.conftest import transcript


def _call(conversation_id: str) -> Conversation:
    return transcript(
        "坐席：您好，请问是王先生吗？\n客户：是我，我的身份证是110101199003074514。\n"
        "坐席：这个产品保本保息，稳赚不赔，您放心买。",
        conversation_id=conversation_id,
        scenario="wealth_sales",
    )


def _count(store: Store, row: type) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(row)) or 0)


def test_nothing_is_stored_before_flush_then_everything_at_once(store: Store, qm_context: QMContext) -> None:
    buffered = BufferedStore(store)
    evaluator = Evaluator.create(qm_context.replace(store=buffered))
    results = [evaluator.evaluate(_call(f"call-{n}")) for n in range(3)]
    assert all(r["tickets"] for r in results)  # a guarantee promise: auto-fail, ticket
    assert [_count(store, row) for row in (ConversationRow, PiiVaultRow, EvaluationRow, TicketRow)] == [0, 0, 0, 0]

    assert buffered.flush() == set()
    assert [_count(store, row) for row in (ConversationRow, PiiVaultRow, EvaluationRow, TicketRow)] == [3, 3, 3, 3]
    assert store.pii_values(tenant="default", conversation_id="call-1") == {"[身份证号#1]": "110101199003074514"}
    stored = store.evaluations(tenant="default", conversation_id="call-2")
    assert [e.model_dump() for e in stored] == [results[2]["evaluation"].model_dump()]
    assert store.ticket_for_evaluation(stored[0].id) == results[2]["tickets"][0]


def test_a_conversation_sent_twice_in_one_chunk_is_evaluated_once(store: Store, qm_context: QMContext) -> None:
    buffered = BufferedStore(store)
    evaluator = Evaluator.create(qm_context.replace(store=buffered))
    first = evaluator.evaluate(_call("call-1"))
    again = evaluator.evaluate(_call("call-1"))
    assert again["reused"] is True and again["evaluation"] == first["evaluation"]
    assert again["tickets"] == first["tickets"]
    buffered.flush()
    assert [_count(store, row) for row in (ConversationRow, EvaluationRow, TicketRow)] == [1, 1, 1]


def test_a_resubmission_reports_the_stored_ticket_as_it_is_now(store: Store, qm_context: QMContext) -> None:
    """A re-submitted evaluation's ticket is the stored one (perhaps already worked on), not a fresh draft."""
    first = Evaluator.create(qm_context).evaluate(_call("call-1"))
    ticket = first["tickets"][0]
    with store.session() as s:
        row = s.get(TicketRow, ticket.id)
        assert row is not None
        row.payload = {**row.payload, "status": "in_progress"}
    buffered = BufferedStore(store)
    again = Evaluator.create(qm_context.replace(store=buffered)).evaluate(_call("call-1"))
    assert again["reused"] is True and again["tickets"][0].status.value == "in_progress"
    assert buffered.flush() == set()
    assert _count(store, TicketRow) == 1


def test_an_evaluation_another_process_stored_first_is_named_and_not_stored_twice(
    store: Store, qm_context: QMContext
) -> None:
    buffered = BufferedStore(store)
    gathered = Evaluator.create(qm_context.replace(store=buffered)).evaluate(_call("call-1"))
    Evaluator.create(qm_context).evaluate(_call("call-1"))  # the other process, between our lookup and our write
    assert buffered.flush() == {gathered["evaluation"].id}
    assert [_count(store, row) for row in (ConversationRow, PiiVaultRow, EvaluationRow, TicketRow)] == [1, 1, 1, 1]


def test_lookups_take_no_write_lock(store: Store, qm_context: QMContext) -> None:
    """Before: every lookup began with BEGIN IMMEDIATE, so a batch worker's reads queued behind the other's writes."""
    evaluation: Evaluation = Evaluator.create(qm_context).evaluate(_call("call-1"))["evaluation"]
    path = sqlite_path(str(store.engine.url))
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    found: list[Evaluation | None] = []
    reader = threading.Thread(
        target=lambda: found.append(
            store.find_evaluation(
                tenant="default",
                conversation_id="call-1",
                content_hash=evaluation.content_hash,
                rule_pack=evaluation.rule_pack,
                verdict_version=evaluation.verdict_version,
            )
        ),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=5)
    finished_while_locked = not reader.is_alive()
    writer.execute("ROLLBACK")
    writer.close()
    reader.join()
    assert finished_while_locked
    assert found and found[0] is not None and found[0].id == evaluation.id
