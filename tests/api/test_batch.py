"""The CLI's batch path: chunks stored before they are reported, spread over helper processes forked from the CLI
itself or over workers forked from a fork server."""

from __future__ import annotations

import json
import os
import sys
import threading
import types
from pathlib import Path

import pytest
from sqlalchemy import func, select

import api.batch
from agents.qm.context import QMContext
from api.batch import BatchSetup, evaluate_chunk, evaluate_stream
from core.errors import ZhijianError
from core.models import Conversation
from core.settings import Settings
from core.store import EvaluationRow, Store, TicketRow
from core.store_batch import BufferedStore
from graphs.supervisor import Evaluator
from knowledge.samples import SAMPLE_CONVERSATIONS
from tests.conftest import transcript
from tools.transcripts import read_path


def _calls(n: int) -> list[tuple[Conversation, str | None]]:
    return [
        (
            transcript(
                "坐席：您好，请问是王先生吗？\n客户：是我。\n坐席：这个产品保本保息，稳赚不赔。",
                conversation_id=f"call-{i}",
                scenario="wealth_sales",
            ),
            None,
        )
        for i in range(n)
    ]


def _count(store: Store, row: type) -> int:
    with store.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(row)) or 0)


def test_a_chunk_reports_what_another_process_stored_first(
    store: Store, qm_context: QMContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both processes looked, found nothing and evaluated; the other one stored first: its evaluation is reported."""
    chunk = _calls(2)
    flush = BufferedStore.flush
    theirs = {}

    def other_process_first(self: BufferedStore) -> set[str]:
        late = qm_context.replace(clock=lambda: qm_context.clock().replace(year=2020))
        theirs.update(Evaluator.create(late).evaluate(chunk[1][0]))
        return flush(self)

    monkeypatch.setattr(BufferedStore, "flush", other_process_first)
    outcomes = evaluate_chunk(Evaluator.create(qm_context), chunk)
    reported, _ = outcomes[1].evaluation()
    assert reported.created_at.year == 2020 and reported == theirs["evaluation"]
    assert outcomes[1].reused and not outcomes[0].reused
    assert [_count(store, row) for row in (EvaluationRow, TicketRow)] == [2, 2]


def test_a_chunk_sent_again_is_reused_whole(store: Store, qm_context: QMContext) -> None:
    chunk = _calls(3)
    first = evaluate_chunk(Evaluator.create(qm_context), chunk)
    mixed = [*chunk[:2], *_calls(4)[3:]]
    again = evaluate_chunk(Evaluator.create(qm_context), mixed)
    assert [o.reused for o in again] == [True, True, False]
    assert [o.json_line for o in again[:2]] == [o.json_line for o in first[:2]]
    assert [_count(store, row) for row in (EvaluationRow, TicketRow)] == [4, 4]


def test_an_error_mid_chunk_keeps_what_finished_before_it(store: Store, qm_context: QMContext) -> None:
    chunk = _calls(3)
    evaluate = qm_context.engine.evaluate

    def fail_on_the_second(conversation: Conversation) -> object:
        if conversation.id == "call-1":
            raise RuntimeError("a bug in a rule")
        return evaluate(conversation)

    broken = qm_context.replace(engine=type("Engine", (), {"evaluate": staticmethod(fail_on_the_second)})())
    with pytest.raises(RuntimeError, match="a bug in a rule"):
        evaluate_chunk(Evaluator.create(broken), chunk)
    assert [e.conversation_id for e in store.evaluations(tenant="default")] == ["call-0"]


@pytest.mark.slow
@pytest.mark.parametrize("forked_here", [True, False], ids=["helpers-forked-here", "fork-server"])
def test_worker_processes_store_and_report_what_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked_here: bool
) -> None:
    """A batch spread over processes (helpers forked from this one, or workers forked from the fork server) gives
    the in-process results, in input order, each stored once."""
    conversations = [c for c in read_path(SAMPLE_CONVERSATIONS, max_bytes=10**9) if isinstance(c, Conversation)]
    items: list[tuple[Conversation, str | None]] = [(c, None) for c in conversations]
    monkeypatch.setattr(api.batch, "_forkable", lambda: forked_here)

    def run(folder: str, in_process_up_to: int) -> list[dict[str, object]]:
        monkeypatch.setattr(api.batch, "IN_PROCESS_UP_TO", in_process_up_to)
        monkeypatch.setattr(api.batch, "CHUNK", 4)
        settings = Settings(data_dir=tmp_path / folder, workers=2)
        lines = [json.loads(o.json_line) for o in evaluate_stream(items, BatchSetup(settings, None, dry_run=False))]
        for line in lines:
            line.pop("created_at"), line.pop("timings_ms")
            for ticket in line["tickets"]:
                ticket.pop("created_at"), ticket.pop("due_at")
        return lines

    in_process = run("one", 10_000)
    workers = run("two", 4)
    assert [line["conversation_id"] for line in workers] == [c.id for c in conversations]
    assert workers == in_process
    stored = Store.from_url(Settings(data_dir=tmp_path / "two").resolved_database_url)
    assert _count(stored, EvaluationRow) == len(conversations)
    stored.engine.dispose()


def test_helpers_are_forked_here_only_from_a_plain_single_threaded_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another Python thread (it may hold a lock the child inherits held) or a library running a native thread
    pool sends the batch to the fork server instead."""
    for name in api.batch._UNFORKABLE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert api.batch._forkable()
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not api.batch._forkable()
    finally:
        release.set()
        thread.join()
    monkeypatch.setitem(sys.modules, "grpc", types.ModuleType("grpc"))
    assert not api.batch._forkable()


def _stop_abruptly(chunk: list[tuple[Conversation, str | None]]) -> list[api.batch.Outcome]:
    os._exit(9)  # a helper killed mid-chunk (out of memory, kill -9)


@pytest.mark.slow
def test_a_helper_stopping_abruptly_ends_the_batch_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.batch, "_forkable", lambda: True)
    monkeypatch.setattr(api.batch, "IN_PROCESS_UP_TO", 4)
    monkeypatch.setattr(api.batch, "CHUNK", 4)
    monkeypatch.setattr(api.batch, "_evaluate_helper_chunk", _stop_abruptly)
    setup = BatchSetup(Settings(data_dir=tmp_path, workers=2), None, dry_run=True)
    with pytest.raises(ZhijianError, match="stopped abruptly"):
        list(evaluate_stream(_calls(40), setup))
