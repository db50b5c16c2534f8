"""Without an LLM, the planner maps common phrasings (zh and en) to the right analysis and arguments."""

from __future__ import annotations

from typing import Any

import pytest

from agents.insight.answer import Subject
from agents.insight.planner import agent_ids, plan

# question → (intent, tool, arguments that must be present)
PHRASINGS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("为什么17号坐席表现不好？", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("17号坐席最近怎么样", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("坐席A017有什么问题？", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("分析一下A017", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("Why did agent 17 underperform?", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("How is A017 doing?", "agent_diagnosis", "agent_profile", {"agent_id": "A017"}),
    ("A017和团队平均比怎么样？", "agent_vs_team", "agent_profile", {"agent_id": "A017"}),
    ("How does agent 17 compare with the team average?", "agent_vs_team", "agent_profile", {"agent_id": "A017"}),
    ("比较A017和A018", "compare_agents", "compare", {"level": "agent", "keys": ["A017", "A018"]}),
    (
        "compare agent 17 and agent 18 on conversion",
        "compare_agents",
        "compare",
        {"level": "agent", "metric": "conversion", "keys": ["A017", "A018"]},
    ),
    (
        "哪个支行理财销售违规最多",
        "rank_branches",
        "compare",
        {"level": "sub_branch", "metric": "fail_rate", "scenario": "wealth_sales", "dimension": "compliance"},
    ),
    ("哪个分行违规最多？", "rank_branches", "compare", {"level": "branch", "metric": "fail_rate"}),
    (
        "Which branch mis-sells wealth products most?",
        "rank_branches",
        "compare",
        {"level": "branch", "metric": "fail_rate", "scenario": "wealth_sales"},
    ),
    ("哪个分行承诺保本最多", "rank_branches", "compare", {"level": "branch", "metric": "fail_rate", "code": "C03"}),
    ("rank branches by C05", "rank_branches", "compare", {"level": "branch", "code": "C05"}),
    ("哪个坐席转化率最低？", "rank_agents", "compare", {"level": "agent", "metric": "conversion"}),
    ("转化率最高的坐席是谁", "rank_agents", "compare", {"level": "agent", "metric": "conversion"}),
    ("rank agents by CSAT", "rank_agents", "compare", {"level": "agent", "metric": "csat"}),
    ("Which agents have the worst compliance score?", "rank_agents", "compare", {"level": "agent"}),
    ("哪个团队得分最低", "rank_teams", "compare", {"level": "team", "metric": "total"}),
    ("最常见的违规是什么？", "rank_rules", "rank_rules", {}),
    ("What are the most common violations?", "rank_rules", "rank_rules", {}),
    ("A017最常见的违规", "rank_rules", "rank_rules", {"agent_id": "A017"}),
    ("上海分行最主要的问题", "rank_rules", "rank_rules", {"branch": "上海分行"}),
    ("客户最关心什么？", "customer_needs", "customer_needs", {}),
    ("What do customers care about most?", "customer_needs", "customer_needs", {}),
    ("理财客户有哪些需求", "customer_needs", "customer_needs", {"scenario": "wealth_sales"}),
    ("贷款客户的痛点是什么", "customer_needs", "customer_needs", {"scenario": "loan"}),
    ("客户担心风险时怎么回答最好？", "golden_scripts", "golden_scripts", {"concern": "风险"}),
    ("金牌话术：客户嫌利率高", "golden_scripts", "golden_scripts", {"concern": "利率"}),
    (
        "How do top agents respond when customers worry about risk?",
        "golden_scripts",
        "golden_scripts",
        {"concern": "风险"},
    ),
    ("最近几周的趋势", "trend", "trend", {}),
    ("A017的每周趋势", "trend", "trend", {"agent_id": "A017"}),
    ("show the weekly trend for agent 17", "trend", "trend", {"agent_id": "A017"}),
    ("天河支行的走势", "trend", "trend", {"sub_branch": "天河支行"}),
    ("哪些违规影响转化？", "drivers", "drivers", {"outcome": "conversion"}),
    ("What drives CSAT?", "drivers", "drivers", {"outcome": "csat"}),
    ("哪些通话有投诉风险", "complaint_risk", "complaint_risk", {}),
    ("Which calls are at risk of escalation?", "complaint_risk", "complaint_risk", {}),
    ("搜索提到“保本”的通话", "search", "search", {"text": "保本"}),
    ("find calls mentioning 'guaranteed'", "search", "search", {"text": "guaranteed"}),
]


@pytest.mark.parametrize(("question", "intent", "tool", "arguments"), PHRASINGS)
def test_phrasing_maps_to_the_analysis(question: str, intent: str, tool: str, arguments: dict[str, Any]) -> None:
    chosen = plan(question)
    assert chosen.intent == intent
    assert [c.name for c in chosen.calls] == [tool]
    assert arguments.items() <= chosen.calls[0].arguments.items()


def test_at_least_thirty_phrasings_in_both_languages() -> None:
    english = [q for q, *_ in PHRASINGS if q.isascii()]
    assert len(PHRASINGS) >= 30 and len(english) >= 10 and len(PHRASINGS) - len(english) >= 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17号坐席", ["A017"]),
        ("A017", ["A017"]),
        ("agent 17", ["A017"]),
        ("坐席A017", ["A017"]),
        ("座席 5 号和 A120", ["A005", "A120"]),
        ("2026年的趋势", []),
    ],
)
def test_agent_references(text: str, expected: list[str]) -> None:
    assert agent_ids(text) == expected


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("那他和团队平均比呢？", "agent_vs_team"),
        ("他的趋势呢", "trend"),
        ("How does he compare with his team?", "agent_vs_team"),
    ],
)
def test_follow_ups_use_the_last_subject(question: str, intent: str) -> None:
    chosen = plan(question, Subject(kind="agent", id="A017"))
    assert chosen.intent == intent and chosen.subject.id == "A017"
    assert chosen.calls[0].arguments["agent_id"] == "A017"


def test_best_first_when_asked_for_the_best() -> None:
    assert plan("转化率最高的坐席是谁").best_first
    assert not plan("哪个坐席转化率最低？").best_first


def test_unrecognised_question_says_so() -> None:
    chosen = plan("今天天气如何")
    assert chosen.intent == "overview" and chosen.notes
