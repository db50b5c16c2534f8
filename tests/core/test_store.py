from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from agents.qm.context import QMContext
from core.models import Conversation
from core.settings import Settings
from core.store import ConversationRow, FindingRow, Store, utc_now
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context, open_store
from tests.conftest import transcript


def _call() -> Conversation:
    return transcript(
        "坐席：您好，安和银行信用卡中心，请问是王先生吗？\n客户：是我，我的身份证是110101199003074514。\n"
        "坐席：王先生，您本期账单金额是八千六百元。",
        conversation_id="call-1",
        scenario="service",
    )


def test_same_content_is_evaluated_once_per_rule_pack_version(store: Store, qm_context: QMContext) -> None:
    graph = build_graph()
    first = evaluate_conversation(graph, qm_context, _call())
    again = evaluate_conversation(graph, qm_context, _call())
    assert again["reused"] is True
    assert again["evaluation"].id == first["evaluation"].id
    assert [t.id for t in again["tickets"]] == [t.id for t in first["tickets"]]

    newer_card = qm_context.scorecard.model_copy(update={"version": "2099.1+test"})
    newer = QMContext(**{**qm_context.__dict__, "scorecard": newer_card})
    evaluate_conversation(graph, newer, _call())
    stored = store.evaluations(tenant="default", conversation_id="call-1")
    assert sorted(e.rule_pack_version for e in stored) == sorted([qm_context.scorecard.version, "2099.1+test"])
    with store.session() as s:
        assert len(s.scalars(select(ConversationRow)).all()) == 1


def test_findings_rows_queryable_and_pii_only_in_vault(store: Store, qm_context: QMContext) -> None:
    evaluation = evaluate_conversation(build_graph(), qm_context, _call())["evaluation"]
    with store.session() as s:
        codes = set(
            s.scalars(
                select(FindingRow.code).where(FindingRow.evaluation_id == evaluation.id, FindingRow.verdict == "fail")
            )
        )
        payload = s.scalar(select(ConversationRow.payload))
    assert "C01" in codes
    assert "110101199003074514" not in str(payload)
    assert "110101199003074514" not in evaluation.model_dump_json()
    assert store.pii_values(tenant="default", conversation_id="call-1") == {"[身份证号#1]": "110101199003074514"}


def test_ticket_saved_once_per_evaluation(store: Store, qm_context: QMContext) -> None:
    output = evaluate_conversation(build_graph(), qm_context, _call())
    [ticket] = output["tickets"]
    assert store.save_ticket(ticket.model_copy(update={"id": "T-other"})).id == ticket.id
    assert [t.id for t in store.tickets(tenant="default")] == [ticket.id]
    assert ticket.agent_id is None and ticket.findings[0].code == "C01"


def test_vault_is_encrypted_at_rest_and_files_are_private(settings: Settings) -> None:
    """Before: raw values sat in plain text in zhijian.db (and its -wal), data files were 0644."""
    store = open_store(settings)
    context = build_qm_context(settings, store=store)
    evaluate_conversation(build_graph(), context, _call())
    assert store.pii_values(tenant="default", conversation_id="call-1") == {"[身份证号#1]": "110101199003074514"}
    store.engine.dispose()
    data = settings.data_dir
    for name in ("zhijian.db", "vault.key"):
        assert (data / name).stat().st_mode & 0o077 == 0, name
    raw = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("zhijian.db"))
    assert b"110101199003074514" not in raw


def test_erasure_and_retention_remove_everything_about_a_conversation(store: Store, qm_context: QMContext) -> None:
    from datetime import timedelta

    from core.store import EvaluationRow, PiiVaultRow, TicketRow

    evaluate_conversation(build_graph(), qm_context, _call())
    evaluate_conversation(build_graph(), qm_context, transcript("坐席：您好。\n客户：你好。", conversation_id="keep"))
    assert store.delete_conversation(tenant="default", conversation_id="call-1") == 1
    with store.session() as s:
        assert {r.external_id for r in s.scalars(select(ConversationRow))} == {"keep"}
        assert s.scalars(select(PiiVaultRow)).all() == []
        assert s.scalars(select(TicketRow)).all() == []
        assert [r.conversation_id for r in s.scalars(select(EvaluationRow))] == ["keep"]
    assert store.purge_older_than(30) == 0
    assert store.purge_older_than(30, now=utc_now() + timedelta(days=31)) == 1
    assert store.evaluations(tenant="default") == []


def test_a_database_from_an_older_version_is_refused_with_the_way_out(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from core.errors import StoreError

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("create table evaluations (id varchar(64) primary key, tenant varchar(100))")
    with pytest.raises(StoreError, match=r"older version.*evaluations lacks"):
        Store.from_url(f"sqlite:///{path}")


def _open_when(path: str, start: float) -> str:
    """Open a store on `path` once the shared start moment comes (a process of the test below)."""
    import time

    while time.time() < start:
        time.sleep(0.001)
    try:
        Store.from_url(f"sqlite:///{path}").engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def test_processes_opening_a_new_database_together_all_get_it(tmp_path: Path) -> None:
    """Worker processes that open a fresh SQLite file at the same moment must all get a store.

    Switching a new database to WAL takes an exclusive lock; SQLite answered "database is locked" at once (no busy
    wait) to whichever process tried while another was creating the tables: about one round in three failed.
    """
    import multiprocessing
    import time

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.map(abs, range(3))  # the processes are up before the first round
        failures = []
        for round_ in range(20):
            start = time.time() + 0.05
            path = str(tmp_path / f"fresh-{round_}.db")
            failures += [r for r in pool.starmap(_open_when, [(path, start)] * 3) if r != "ok"]
    assert failures == []
