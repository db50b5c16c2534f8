"""Done-when on the demo organisation: the planted agent's causes, conversion vs team with n, and evidence from
that agent's own calls only; the mis-selling branch comes out on top."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from core.access import Principal
from graphs.insight import ask, build_graph, build_insight_context
from knowledge.demo_org import MIS_SELLING_BRANCH, PLANTED_AGENT, PLANTED_AGENT_CODES
from tests.insight.conftest import Demo


def test_planted_agent_diagnosis_names_causes_numbers_and_own_evidence(demo: Demo, lead: Principal) -> None:
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit)
    answer = ask(build_graph(), context, "为什么17号坐席表现不好？")

    assert answer.intent == "agent_diagnosis" and answer.subject.id == PLANTED_AGENT
    top_codes = {c.code for c in answer.causes[:5]}
    assert set(PLANTED_AGENT_CODES) <= top_codes
    conversion = next(f for f in answer.facts if f.metric == "conversion")
    assert conversion.value is not None and conversion.baseline is not None
    assert conversion.value < conversion.baseline and conversion.n >= 5 and (conversion.baseline_n or 0) >= 5
    assert conversion.baseline_scope and "team" in conversion.baseline_scope
    agent_of = demo.agent_of()
    assert answer.evidence and all(agent_of[e.conversation_id] == PLANTED_AGENT for e in answer.evidence)
    # the quotes are really in those calls
    texts = {e.conversation_id: e.quote for e in answer.evidence}
    assert all(q for q in texts.values())
    assert "B02" in answer.answer and "C04" in answer.answer and f"n={conversion.n}" in answer.answer


def test_follow_up_refers_to_the_last_subject(demo: Demo, lead: Principal) -> None:
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit)
    graph = build_graph(checkpointer=InMemorySaver())
    ask(graph, context, "为什么17号坐席表现不好？", thread="t")
    follow_up = ask(graph, context, "那他和团队平均比呢？", thread="t")
    assert follow_up.intent == "agent_vs_team" and follow_up.subject.id == PLANTED_AGENT
    assert any(f.baseline_scope and "team" in f.baseline_scope for f in follow_up.facts)
    state = graph.get_state({"configurable": {"thread_id": f"insight:{lead.tenant}:{lead.subject}:t"}})
    assert state.values["last_subject"] == {"kind": "agent", "id": PLANTED_AGENT}
    assert len(state.values["messages"]) == 4


def test_mis_selling_branch_ranks_first_for_wealth_sales_violations(demo: Demo, lead: Principal) -> None:
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit)
    answer = ask(build_graph(), context, "哪个分行理财销售违规最多？")
    assert answer.intent == "rank_branches"
    first = answer.facts[0]
    assert first.scope == f"branch:{MIS_SELLING_BRANCH}"
    assert first.value is not None and first.baseline is not None and first.value > first.baseline
    guarantee = ask(build_graph(), context, "Which branch promises guaranteed returns most often?")
    assert guarantee.facts[0].scope == f"branch:{MIS_SELLING_BRANCH}"


def test_unknown_agent_is_said_plainly(demo: Demo, lead: Principal) -> None:
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit)
    answer = ask(build_graph(), context, "为什么99号坐席表现不好？")
    assert answer.tools[0].error and "A099" in answer.tools[0].error
    assert answer.facts == [] and answer.evidence == []


def test_question_without_thread_on_a_checkpointed_graph(demo: Demo, lead: Principal) -> None:
    """Regression: a checkpointed graph asked without a thread id raised instead of answering."""
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit)
    answer = ask(build_graph(checkpointer=InMemorySaver()), context, "最常见的违规是什么？")
    assert answer.intent == "rank_rules" and answer.facts and answer.thread_id is None
