from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.qm.context import QMContext
from agents.qm.intake import receive
from agents.qm.nodes import route_after_assess
from core.models import Evaluation, RiskLevel, Ticket, Verdict
from core.store import Store
from graphs import supervisor
from graphs.qm import build_graph, evaluate_conversation, run_received
from graphs.wiring import open_sqlite_checkpointer
from tests.conftest import transcript

RAW_ID = "110101199003074514"
MIS_SELL = (
    "[0-4] 坐席：您好，我是安和银行理财经理小陈。\n"
    f"[5-9] 客户：你好，我身份证是{RAW_ID}。\n"
    "[10-16] 坐席：给您推荐这款理财，保本保收益，稳赚不赔。\n"
    "[17-19] 客户：那我买五十万。\n"
    "[20-23] 坐席：好的，购买成功了。"
)
CLEAN = (
    "[0-4] 坐席：您好，安和银行客服中心，请问有什么可以帮您？\n"
    "[5-8] 客户：你们网点几点下班？\n"
    "[9-13] 坐席：一般是下午五点，周末四点半。还有什么可以帮您？\n"
    "[14-15] 客户：没有了，谢谢。\n"
    "[16-19] 坐席：感谢来电，再见。"
)


def test_routes_are_pure() -> None:
    assert route_after_assess({"reused": True}) == "record"
    assert route_after_assess({"reused": False, "llm_candidates": ["WS-IMPLIED-GUARANTEE"]}) == "judge_semantics"
    assert route_after_assess({"reused": False, "llm_candidates": []}) == "record"
    assert supervisor.route_request({"kind": "evaluate"}) == "qm_agent"  # type: ignore[typeddict-item]


def test_flow_scores_stores_and_keeps_pii_out_of_state(qm_context: QMContext) -> None:
    conversation = transcript(MIS_SELL, conversation_id="ms-1", scenario="wealth_sales", agent_id="A017")
    output = evaluate_conversation(build_graph(), qm_context, conversation)

    evaluation = output["evaluation"]
    assert evaluation.auto_failed and evaluation.total == 0 and evaluation.risk_level is RiskLevel.CRITICAL
    assert {"C02", "C03"} <= {f.code for f in evaluation.failed}
    guarantee = next(f for f in evaluation.failed if f.rule_id == "WS-NO-GUARANTEE")
    assert guarantee.evidence[0].turn == 2 and "保本保收益" in guarantee.evidence[0].quote
    assert guarantee.evidence[0].start == 10.0
    # Compact: the findings hold failures and unevaluated rules; every rule's verdict is in `verdicts`.
    assert all(f.verdict in (Verdict.FAIL, Verdict.NOT_EVALUATED) for f in evaluation.findings)
    assert len(evaluation.verdicts) == len(qm_context.scorecard.rules)
    assert evaluation.verdicts["WS-NO-GUARANTEE"] is Verdict.FAIL
    assert set(evaluation.timings_ms) >= {"ingest", "rules", "small_models", "cite"}
    [ticket] = output["tickets"]
    assert ticket.agent_id == "A017" and ticket.priority.value == "critical"
    assert RAW_ID not in evaluation.model_dump_json()
    assert qm_context.store is not None
    assert qm_context.store.pii_values(tenant="default", conversation_id="ms-1") == {"[身份证号#1]": RAW_ID}


class FlakyStore(Store):
    """A real store whose next `fail_next` saves of one kind raise, as a locked database would."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.fail_evaluation = 0
        self.fail_ticket = 0

    def save_evaluation(self, conversation: Any, evaluation: Evaluation) -> Evaluation:
        if self.fail_evaluation:
            self.fail_evaluation -= 1
            raise RuntimeError("database is locked")
        return super().save_evaluation(conversation, evaluation)

    def save_ticket(self, ticket: Ticket) -> Ticket:
        if self.fail_ticket:
            self.fail_ticket -= 1
            raise RuntimeError("killed between the evaluation and its ticket")
        return super().save_ticket(ticket)


def test_retry_after_a_failed_persist_counts_nothing_twice(qm_context: QMContext, tmp_path: Path) -> None:
    """Before: an accumulating findings reducer and a content-derived thread doubled the findings on retry."""
    assert qm_context.store is not None
    flaky = FlakyStore(qm_context.store)
    context = qm_context.replace(store=flaky)
    saver = open_sqlite_checkpointer(tmp_path / "ck.db")
    graph = build_graph(checkpointer=saver)
    call = transcript(CLEAN, conversation_id="clean-1", scenario="service")
    expected = evaluate_conversation(build_graph(), qm_context.replace(store=None), call)["evaluation"]

    received = receive(call, store=flaky)
    flaky.fail_evaluation = 1
    with pytest.raises(RuntimeError, match="locked"):
        run_received(graph, context, received.conversation, received.content_hash)
    # The failed run's checkpoint holds only redacted text and no vault.
    raw = b"".join(bytes(row[0]) for row in saver.conn.execute("select checkpoint from checkpoints"))
    assert raw and b"pii" not in raw
    retried = run_received(graph, context, received.conversation, received.content_hash)["evaluation"]
    assert retried.total == expected.total
    assert len(retried.verdicts) == len(qm_context.scorecard.rules)
    assert [f.rule_id for f in retried.findings] == [f.rule_id for f in expected.findings]
    stored = flaky.evaluations(tenant="default", conversation_id="clean-1")
    assert len(stored) == 1 and stored[0].total == expected.total
    # A finished run leaves no checkpoint behind.
    assert saver.conn.execute("select count(*) from checkpoints").fetchone()[0] == 0


def test_raw_pii_never_reaches_checkpoints_even_when_saving_fails(qm_context: QMContext, tmp_path: Path) -> None:
    assert qm_context.store is not None
    flaky = FlakyStore(qm_context.store)
    flaky.fail_evaluation = 1
    saver = open_sqlite_checkpointer(tmp_path / "ck.db")
    call = transcript(MIS_SELL, conversation_id="pii-err", scenario="wealth_sales")
    with pytest.raises(RuntimeError):
        evaluate_conversation(build_graph(checkpointer=saver), qm_context.replace(store=flaky), call)
    raw = b"".join(bytes(row[0]) for row in saver.conn.execute("select checkpoint from checkpoints"))
    raw += b"".join(bytes(row[0]) for row in saver.conn.execute("select value from writes") if row[0] is not None)
    assert raw, "the failed run left its checkpoint to resume from"
    assert RAW_ID.encode() not in raw and "身份证号#1".encode() in raw


def test_crash_between_evaluation_and_ticket_is_completed_on_the_next_submission(qm_context: QMContext) -> None:
    """Before: the re-run found the evaluation in `ingest` and ended, so the ticket was never opened."""
    assert qm_context.store is not None
    flaky = FlakyStore(qm_context.store)
    flaky.fail_ticket = 1
    context = qm_context.replace(store=flaky)
    call = transcript(MIS_SELL, conversation_id="tk-1", scenario="wealth_sales")
    with pytest.raises(RuntimeError, match="killed"):
        evaluate_conversation(build_graph(), context, call)
    assert flaky.tickets(tenant="default") == []
    again = evaluate_conversation(build_graph(), context, call)
    assert again["reused"] is True and len(again["tickets"]) == 1
    assert [t.id for t in flaky.tickets(tenant="default")] == [again["tickets"][0].id]


def test_a_guarantee_promise_fails_whatever_the_scenario_says(qm_context: QMContext) -> None:
    """Before: without a scenario (recordings have none) the auto-fail rule was not applicable (score 84)."""
    for scenario in (None, "service", "collection"):
        call = transcript("坐席：这个产品保本保息，稳赚不赔。", conversation_id=f"g-{scenario}", scenario=scenario)
        evaluation = evaluate_conversation(build_graph(), qm_context.replace(store=None), call)["evaluation"]
        assert evaluation.verdicts["WS-NO-GUARANTEE"] is Verdict.FAIL, scenario
        assert evaluation.auto_failed and evaluation.total == 0


def test_supervisor_is_the_one_way_in(qm_context: QMContext) -> None:
    evaluator = supervisor.Evaluator.create(qm_context, checkpointer=InMemorySaver())
    first = evaluator.evaluate(transcript(MIS_SELL, conversation_id="ms-2", scenario="wealth_sales"))
    again = evaluator.evaluate(transcript(MIS_SELL, conversation_id="ms-2", scenario="wealth_sales"))
    assert first["evaluation"].conversation_id == "ms-2" and again["reused"] is True
    assert qm_context.store is not None
    assert [e.id for e in qm_context.store.evaluations(tenant="default")] == [first["evaluation"].id]
    assert evaluator.context.qm_graph.checkpointer is None  # no LLM: deterministic runs keep no checkpoints


def test_a_batch_is_one_supervisor_request_with_the_same_results_in_order(qm_context: QMContext) -> None:
    evaluator = supervisor.Evaluator.create(qm_context)
    conversations = [
        transcript(MIS_SELL, conversation_id="b-1", scenario="wealth_sales"),
        transcript(CLEAN, conversation_id="b-2"),
        transcript(MIS_SELL, conversation_id="b-1", scenario="wealth_sales"),  # the same again: reused
    ]
    received = [receive(c, store=qm_context.store) for c in conversations]
    results = evaluator.evaluate_received_many([(r.conversation, r.content_hash) for r in received])
    assert [r["evaluation"].conversation_id for r in results] == ["b-1", "b-2", "b-1"]
    assert [r["reused"] for r in results] == [False, False, True]
    assert results[0]["evaluation"].auto_failed and results[1]["evaluation"].total == 100
    assert len(results[0]["tickets"]) == 1 and results[1]["tickets"] == []
    single = evaluator.evaluate(transcript(CLEAN, conversation_id="b-2"))
    assert single["reused"] and single["evaluation"].id == results[1]["evaluation"].id
    assert evaluator.evaluate_received_many([]) == []


def test_compliance_failures_carry_citations(qm_context: QMContext, regulation_index: Any) -> None:
    from tools.citations import build_citation_table

    table = build_citation_table(regulation_index, qm_context.scorecard)
    with_kb = qm_context.replace(citations=table, store=None)
    call = transcript(
        "坐席：您就把这款理财当成一个月的定期存单，安全性跟存单差不多。\n客户：那好。",
        conversation_id="cite-1",
        scenario="wealth_sales",
    )
    evaluation = evaluate_conversation(build_graph(), with_kb, call)["evaluation"]
    deposit = next(f for f in evaluation.failed if f.rule_id == "WS-NOT-A-DEPOSIT")
    assert [c.clause_id for c in deposit.citations] == ["存款保险条例-第4条"]  # its 消保法 ref is not indexed here
    assert deposit.citations[0].source == "rule" and "被保险存款" in deposit.citations[0].text
    assert all(not f.citations for f in evaluation.failed if f.dimension.value != "compliance")
    without = evaluate_conversation(build_graph(), with_kb.replace(citations=None), call)
    assert any("法规库未启用" in n for n in without["evaluation"].notes)


def test_dry_run_stores_nothing(qm_context: QMContext) -> None:
    output = evaluate_conversation(
        build_graph(),
        qm_context.replace(store=None),
        transcript(MIS_SELL, conversation_id="dry", scenario="wealth_sales"),
    )
    assert output["evaluation"].auto_failed and output["tickets"]
    assert qm_context.store is not None and qm_context.store.evaluations(tenant="default") == []
    assert qm_context.store.pii_values(tenant="default", conversation_id="dry") == {}


def test_citation_tables_round_trip_through_their_cache_file(qm_context: QMContext, tmp_path: Path) -> None:
    from core.models import Citation
    from tools.citations import CitationTable

    clause = Citation(clause_id="商业银行法-第29条", title="商业银行法", article="第29条", text="……", source="rule")
    found = Citation(
        clause_id="消费者权益保护法-第20条", title="消保法", article="第20条", text="……", source="retrieval"
    )
    table = CitationTable(
        scorecard_version=qm_context.scorecard.version,
        by_rule={"ID-VERIFY-BEFORE-DISCLOSE": [clause]},
        retrieved={("LN-REPAYMENT-TERMS", None): [found], ("LN-REPAYMENT-TERMS", "loan"): [found]},
    )
    table.save(tmp_path / "c" / "t.json")
    again = CitationTable.load(tmp_path / "c" / "t.json")
    assert again == table
    assert again.for_rule("LN-REPAYMENT-TERMS", "collection") == [found]  # falls back to the scenario-free lookup
    assert again.for_rule("ID-VERIFY-BEFORE-DISCLOSE", None) == [clause]


def test_a_conversation_id_that_is_personal_data_is_pseudonymised(qm_context: QMContext) -> None:
    """Before: a phone number used as the call id was stored and printed as it came."""
    call = transcript(CLEAN, conversation_id="13812345678", scenario="service")
    first = evaluate_conversation(build_graph(), qm_context, call)["evaluation"]
    again = evaluate_conversation(build_graph(), qm_context, call)
    assert first.conversation_id.startswith("pii-") and "13812345678" not in first.model_dump_json()
    assert again["reused"] is True and again["evaluation"].id == first.id
    assert qm_context.store is not None
    assert qm_context.store.pii_values(tenant="default", conversation_id=first.conversation_id) == {
        "[会话编号#1]": "13812345678"
    }
    ordinary = evaluate_conversation(build_graph(), qm_context, transcript(CLEAN, conversation_id="A017-0003"))
    assert ordinary["evaluation"].conversation_id == "A017-0003"
