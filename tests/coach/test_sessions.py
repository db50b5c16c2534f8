"""Practice sessions end to end: scenario from weaknesses, per-reply feedback, debrief, restart, no repeats."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from agents.coach.catalog import load_catalog
from agents.coach.simulator import normalise
from core.models import Dimension, Verdict
from tests.coach.agents import BAD, GOOD, reply_to, run_session
from tests.coach.conftest import Coaching, needs_shared_data

pytestmark = needs_shared_data


def test_agent_failing_c04_b02_gets_a_liquidity_or_risk_objection(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    assert {"C04", "B02"} <= {w.code for w in profile.weaknesses}
    view = c.sessions.start(agent=org, profile=profile, started_by="test")
    objections = [o.id for o in view.scenario.objections]
    assert {"liquidity_need", "low_risk_tolerance"} & set(objections)
    assert view.scenario.persona.risk_tolerance == "low"
    assert view.customer
    # Reply until that objection comes: the customer line must set off the C04 rule's trigger.
    catalog = load_catalog()
    c04 = c.sessions.context.scorecard.rule("WS-SUITABILITY-MISMATCH")
    triggers = c04.check.window.after.patterns  # type: ignore[union-attr]
    raised = None
    for _ in range(4):
        view = c.sessions.say(view.session_id, reply_to(view, GOOD))
        last = view.transcript[-1]
        if last.objection in ("liquidity_need", "low_risk_tolerance"):
            raised = last
            break
    assert raised is not None and raised.role == "customer"
    assert catalog.objection(raised.objection or "").raised_by(raised.text)
    assert any(re.search(p, raised.text) for p in triggers)


def test_a_guarantee_promise_is_flagged_c03_with_a_hint_and_a_model_answer(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    view = c.sessions.start(agent=org, profile=profile, started_by="test", rules=["WS-NO-GUARANTEE"])
    view = c.sessions.say(view.session_id, GOOD["opening"])
    assert view.transcript[-1].objection == "asks_guarantee"
    promise_turn = len(view.transcript)
    view = c.sessions.say(view.session_id, "您放心，这款产品保本保收益，稳赚不赔。")
    feedback = view.feedback[-1]
    assert feedback.turn == promise_turn and not feedback.passed
    c03 = [f for f in feedback.findings if f.code == "C03"]
    assert c03 and c03[0].rule_id == "WS-NO-GUARANTEE"
    assert any(e.turn == promise_turn for e in c03[0].evidence)
    assert "保本" in feedback.hint
    answer = feedback.model_answer
    assert answer is not None and answer.conversation_id and answer.quote
    assert "保本保收益" not in answer.quote
    # The customer insists after a failed reply, and the session state is persisted in the checkpoint.
    assert view.transcript[-1].intent is not None and view.transcript[-1].intent.value == "press"
    state = c.sessions.graph.get_state({"configurable": {"thread_id": f"coach:{view.session_id}"}})
    assert state.values["feedback"][-1].findings[0].rule_id == c03[0].rule_id


def test_a_good_agent_passes_the_targets_and_outscores_a_bad_one(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    rules = ["WS-SUITABILITY-MISMATCH", "WS-NO-GUARANTEE"]
    good = run_session(c.sessions, c.sessions.start(agent=org, profile=profile, started_by="t", rules=rules), GOOD)
    bad = run_session(c.sessions, c.sessions.start(agent=org, profile=profile, started_by="t", rules=rules), BAD)
    assert good.debrief is not None and bad.debrief is not None
    assert all(t.passed for t in good.debrief.targets), good.debrief.targets
    assert {t.rule_id for t in bad.debrief.targets if t.verdict is Verdict.FAIL} == set(rules)
    assert good.debrief.total > bad.debrief.total
    assert good.debrief.scores[Dimension.COMPLIANCE] > bad.debrief.scores[Dimension.COMPLIANCE]
    failed = next(t for t in bad.debrief.targets if t.rule_id == "WS-NO-GUARANTEE")
    assert failed.evidence and failed.failed_turns
    # The bad session came after the good one: its debrief compares with it.
    assert bad.debrief.previous_total == good.debrief.total
    assert set(bad.debrief.next_scenario.rules) == set(rules)


def test_a_session_survives_a_restart(coaching: Callable[[], Coaching]) -> None:
    first = coaching()
    org, profile = first.agent("A017", "bank-a")
    view = first.sessions.start(agent=org, profile=profile, started_by="test")
    view = first.sessions.say(view.session_id, GOOD["opening"])
    before = [t.text for t in view.transcript]
    first.close()

    second = coaching()  # new store, checkpointer and graph on the same files
    resumed = second.sessions.view(view.session_id)
    assert [t.text for t in resumed.transcript] == before and resumed.status == "active"
    after = second.sessions.say(view.session_id, reply_to(resumed, GOOD))
    assert [t.text for t in after.transcript][: len(before)] == before
    assert len(after.feedback) == 2
    ended = second.sessions.end(view.session_id)
    assert ended.status == "ended" and ended.debrief is not None
    assert second.sessions.end(view.session_id).debrief == ended.debrief  # ending twice changes nothing


def test_the_retrieval_customer_never_repeats_a_line_and_raises_every_objection(
    coaching: Callable[[], Coaching],
) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    for script in (BAD, GOOD, BAD):
        start = c.sessions.start(agent=org, profile=profile, started_by="t", codes=["C03", "C04", "S02"])
        view = run_session(c.sessions, start, script, max_replies=16)
        customer = [t for t in view.transcript if t.role == "customer"]
        lines = [normalise(t.text) for t in customer]
        assert len(lines) == len(set(lines)), lines
        assert not any(t.source == "llm" for t in customer)
        raised = Counter(t.objection for t in customer if t.intent is not None and t.intent.value == "objection")
        assert raised == {o.id: o.times for o in view.scenario.objections}
        catalog = load_catalog()
        for t in customer:
            if t.objection is not None:
                assert catalog.objection(t.objection).raised_by(t.text), t
        assert any(t.source == "retrieval" for t in customer)
