from __future__ import annotations

from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver

from agents.qm.context import QMContext
from agents.qm.nodes import route_after_ingest
from core.models import RiskLevel, Verdict
from graphs import supervisor
from graphs.qm import build_graph, evaluate_conversation, thread_id
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


def test_routes_are_pure() -> None:
    assert route_after_ingest({"reused": True}) == "__end__"
    assert route_after_ingest({"reused": False}) == "redact"
    assert supervisor.route_request({"kind": "evaluate", "conversation": transcript("坐席：您好")}) == "qm_agent"


def test_flow_scores_stores_and_checkpoints_only_redacted_state(qm_context: QMContext, tmp_path: Path) -> None:
    saver = open_sqlite_checkpointer(tmp_path / "ck.db")
    graph = build_graph(checkpointer=saver)
    conversation = transcript(MIS_SELL, conversation_id="ms-1", scenario="wealth_sales", agent_id="A017")
    output = evaluate_conversation(graph, qm_context, conversation)

    evaluation = output["evaluation"]
    assert evaluation.auto_failed and evaluation.total == 0 and evaluation.risk_level is RiskLevel.CRITICAL
    codes = {f.code for f in evaluation.failed}
    assert {"C02", "C03"} <= codes
    guarantee = next(f for f in evaluation.failed if f.rule_id == "WS-NO-GUARANTEE")
    assert guarantee.evidence[0].turn == 2 and "保本保收益" in guarantee.evidence[0].quote
    assert guarantee.evidence[0].start == 10.0
    assert any(f.verdict is Verdict.NOT_EVALUATED for f in evaluation.findings)
    assert any("语义规则未评估" in n for n in evaluation.notes)
    assert set(evaluation.timings_ms) >= {"ingest", "redact", "rules"}
    [ticket] = output["tickets"]
    assert ticket.agent_id == "A017" and ticket.priority.value == "critical"

    state = graph.get_state({"configurable": {"thread_id": thread_id(conversation, qm_context)}})
    assert state.values["evaluation"].id == evaluation.id
    assert state.values["pii"] == []
    assert "[身份证号#1]" in state.values["conversation"].turns[1].text
    raw = b"".join(bytes(row[0]) for row in saver.conn.execute("select checkpoint from checkpoints"))
    raw += b"".join(bytes(row[0]) for row in saver.conn.execute("select value from writes") if row[0] is not None)
    assert RAW_ID.encode() not in raw


def test_supervisor_runs_the_qm_agent_as_a_subgraph(qm_context: QMContext) -> None:
    graph = supervisor.build_graph(checkpointer=InMemorySaver())
    conversation = transcript(MIS_SELL, conversation_id="ms-2", scenario="wealth_sales")
    result = graph.invoke(
        {"kind": "evaluate", "conversation": conversation},
        {"configurable": {"thread_id": "sup-1"}},
        context=qm_context,
    )
    assert result["evaluation"].conversation_id == "ms-2"
    assert qm_context.store is not None
    assert [e.id for e in qm_context.store.evaluations(tenant="default")] == [result["evaluation"].id]


def test_compliance_failures_carry_citations(qm_context: QMContext, regulation_index: object) -> None:
    with_kb = QMContext(**{**qm_context.__dict__, "regulations": regulation_index, "store": None})
    call = transcript(
        "坐席：您就把这款理财当成一个月的定期存单，安全性跟存单差不多。\n客户：那好。",
        conversation_id="cite-1",
        scenario="wealth_sales",
    )
    evaluation = evaluate_conversation(build_graph(), with_kb, call)["evaluation"]
    deposit = next(f for f in evaluation.failed if f.rule_id == "WS-NOT-A-DEPOSIT")
    assert [c.clause_id for c in deposit.citations] == ["存款保险条例-第4条"]  # its 消保法 ref is not indexed here
    assert deposit.citations[0].source == "rule" and "被保险存款" in deposit.citations[0].text
    disclosure = next(f for f in evaluation.failed if f.rule_id == "WS-RISK-DISCLOSURE")
    assert disclosure.citations and all(c.source == "retrieval" for c in disclosure.citations)
    assert all(not f.citations for f in evaluation.findings if f.dimension.value != "compliance")
    without = evaluate_conversation(build_graph(), QMContext(**{**with_kb.__dict__, "regulations": None}), call)
    assert any("法规库未启用" in n for n in without["evaluation"].notes)


def test_dry_run_stores_nothing(qm_context: QMContext) -> None:
    dry = QMContext(**{**qm_context.__dict__, "store": None})
    output = evaluate_conversation(
        build_graph(), dry, transcript(MIS_SELL, conversation_id="dry", scenario="wealth_sales")
    )
    assert output["evaluation"].auto_failed and output["tickets"]
    assert qm_context.store is not None and qm_context.store.evaluations(tenant="default") == []


def test_route_after_rules_only_sends_candidates_to_the_llm() -> None:
    from agents.qm.nodes import route_after_rules

    assert route_after_rules({"llm_candidates": ["WS-IMPLIED-GUARANTEE"]}) == "judge_semantics"
    assert route_after_rules({"llm_candidates": []}) == "cite"


def test_llm_tier_in_the_flow_and_its_failures(qm_context: QMContext) -> None:
    import json

    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from prompts import load_prompt
    from tools.semantic import SemanticJudge

    call = transcript(
        "坐席：您好，我是安和银行理财经理小陈。\n客户：会亏吗？\n坐席：这款理财成立以来一天都没跌过，您放心。",
        conversation_id="llm-1",
        scenario="wealth_sales",
    )

    def judged(replies: list[AIMessage]) -> QMContext:
        judge = SemanticJudge(
            GenericFakeChatModel(messages=iter(replies)),
            prompt=load_prompt("semantic_check"),
            model_name="fake",
            cache=qm_context.store,  # type: ignore[arg-type]
            max_concurrency=1,
        )
        return QMContext(**{**qm_context.__dict__, "judge": judge})

    violation = json.dumps(
        {
            "verdict": "violation",
            "evidence": [{"turn": 2, "quote": "一天都没跌过"}],
            "reason": "暗示不亏",
            "confidence": 0.85,
        },
        ensure_ascii=False,
    )
    clean = json.dumps({"verdict": "no_violation", "evidence": [], "reason": "无", "confidence": 0.7})
    # Semantic rules that apply here, answered in rule-pack order: implied guarantee, suitability and needs
    # ignored (the customer asks about losses), perfunctory reply and dissatisfaction (the customer's question);
    # wrong information does not apply (the agent states no facts).
    context = judged([AIMessage(violation), *[AIMessage(clean)] * 4])
    evaluation = evaluate_conversation(build_graph(), context, call)["evaluation"]
    implied = next(f for f in evaluation.findings if f.rule_id == "WS-IMPLIED-GUARANTEE")
    assert implied.verdict is Verdict.FAIL and implied.tier.value == "llm" and implied.evidence[0].turn == 2
    assert evaluation.llm is not None and evaluation.llm.calls == 5 and evaluation.llm.model == "fake"
    assert "llm" in evaluation.timings_ms

    outage = judged([])  # the model has nothing to say: every call fails
    again = transcript(
        "坐席：您好，我是安和银行理财经理。\n坐席：这款理财一天都没跌过。",
        conversation_id="llm-2",
        scenario="wealth_sales",
    )
    result = evaluate_conversation(build_graph(), outage, again)["evaluation"]
    semantic = [f for f in result.findings if f.rule_id == "WS-IMPLIED-GUARANTEE"]
    assert semantic[0].verdict is Verdict.NOT_EVALUATED and result.llm is not None and result.llm.failed >= 1
    assert any("大模型未能给出可信结论" in n for n in result.notes)
