"""The demo organisation: its shape, determinism, idempotent loading and the planted patterns' source calls."""

from __future__ import annotations

from collections import Counter

from knowledge.demo_org import (
    MIS_SELLING_BRANCH,
    PLANTED_AGENT,
    demo_conversations,
)
from knowledge.demo_org.loader import load_demo_org
from tests.insight.conftest import Demo


def test_demo_org_has_the_promised_shape(demo: Demo) -> None:
    calls = list(demo_conversations())
    assert 300 <= len(calls) == demo.report.conversations
    assert len({c.id for c in calls}) == len(calls)
    assert demo.report.agents >= 10 and demo.report.branches == 3 and demo.report.weeks >= 4
    assert {c.tenant for c in calls} == {"demo-bank"}
    assert all(c.started_at is not None and c.branch and c.team and c.agent_id for c in calls)


def test_demo_org_is_deterministic() -> None:
    first = [c.model_dump(mode="json") for c in demo_conversations()]
    second = [c.model_dump(mode="json") for c in demo_conversations()]
    assert first == second


def test_planted_patterns_are_in_the_calls() -> None:
    calls = list(demo_conversations())
    planted = [c for c in calls if c.agent_id == PLANTED_AGENT]
    sales = [c for c in planted if c.scenario in ("wealth_sales", "telemarketing")]
    assert sales and all(c.outcome.converted is False for c in sales)
    sources = Counter(c.notes[0].split("(")[-1].rstrip(")") for c in calls if c.branch == MIS_SELLING_BRANCH)
    assert sources["mis_selling"] >= 30


def test_loading_again_reuses_every_evaluation(demo: Demo) -> None:
    again = load_demo_org(demo.settings, store=demo.store, show_progress=False)
    assert again.reused == again.conversations and again.evaluated == 0
