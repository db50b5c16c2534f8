"""Nodes of the practice flow: plan_scenario → open_session → customer_turn → await_reply (interrupt) →
assess_reply → … → debrief → record_results.

Nothing before `interrupt()` has a side effect, so a resumed node re-runs safely; the session row and its
results are written by their own idempotent nodes (keyed by the session id).
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.coach import persona as persona_machine
from agents.coach.context import CoachContext
from agents.coach.debrief import build_debrief
from agents.coach.feedback import assess_reply as assess
from agents.coach.feedback import practice_conversation
from agents.coach.models import PracticeTurn, TurnIntent
from agents.coach.scenario import build_scenario
from agents.coach.simulator import CustomerSimulator, LlmCustomer, RetrievalCustomer, Situation, normalise
from agents.coach.state import AgentMove, CoachState
from agents.coach.triggers import customer_complaints, customer_triggers
from tools.coaching.sessions import RuleOutcome
from tools.coaching.sessions import open_session as register_session
from tools.coaching.sessions import record_results as store_results


def plan_scenario(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """The scenario from the agent's weak rules (or the coach's choice) and the persona's starting state."""
    ctx = runtime.context
    scenario = build_scenario(
        state["profile"],
        ctx.scorecard,
        ctx.catalog,
        rules=state["rules"],
        codes=state["codes"],
        language=state["language"],
    )
    return {"scenario": scenario, "persona": persona_machine.start(scenario), "failing": []}


def open_session(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """Register the session in the store (idempotent), so access to it can be checked in SQL."""
    register_session(
        runtime.context.store,
        session_id=state["session_id"],
        agent=state["agent"],
        started_by=state["started_by"],
        scenario=state["scenario"].model_dump(mode="json"),
        target_rules=state["scenario"].target_rules,
    )
    return {}


def _simulator(ctx: CoachContext, tenant: str, language: str) -> CustomerSimulator:
    retrieval = RetrievalCustomer(ctx.pools.pool(tenant), ctx.pools.vectors, ctx.catalog)
    prompt = ctx.persona_prompts.get(language)
    llm = LlmCustomer(ctx.customer_model, prompt, ctx.catalog) if ctx.customer_model and prompt else None
    return CustomerSimulator(retrieval, llm)


def customer_turn(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """The customer's next line, as the persona state machine demands."""
    ctx, scenario, persona = runtime.context, state["scenario"], state["persona"]
    transcript = state.get("transcript", [])
    intent, objection_id = persona_machine.next_intent(persona)
    agent_lines = [t.text for t in transcript if t.role == "agent"]
    hidden = next((o for o in scenario.objections if o.id == objection_id), None)
    tested = [ctx.scorecard.rule(r) for r in hidden.rules] if hidden is not None else []
    # A dissatisfied ending is earned only by a mishandled objection; otherwise the customer stays neutral.
    earned = intent is TurnIntent.CLOSING and bool(persona.pressed)
    # Insisting, and an upset customer's objection, are complaints by nature.
    upset = objection_id is not None and ctx.catalog.objection(objection_id).mood == "upset"
    complaining = earned or intent is TurnIntent.PRESS or upset
    situation = Situation(
        scenario=scenario,
        intent=intent,
        objection=ctx.catalog.objection(objection_id) if objection_id else None,
        agent_reply=agent_lines[-1] if agent_lines else None,
        transcript=transcript,
        used=frozenset(normalise(t.text) for t in transcript if t.role == "customer"),
        seed=f"{state['session_id']}:{len(transcript)}",
        triggers=customer_triggers(tested),
        avoid=() if complaining else customer_complaints(ctx.scorecard),
    )
    turn = _simulator(ctx, state["agent"].tenant, scenario.language).line(situation)
    return {"transcript": [turn], "persona": persona_machine.after_customer_line(persona, intent, objection_id)}


def await_reply(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """Wait for the agent (interrupt); the resume value is an AgentMove."""
    transcript = state.get("transcript", [])
    move: AgentMove = interrupt(
        {"session_id": state["session_id"], "turn": transcript[-1].index, "customer": transcript[-1].text}
    )
    if move.get("end"):
        return {"end_requested": True}
    reply = PracticeTurn(index=len(transcript), role="agent", text=str(move.get("reply", "")).strip())
    return {"transcript": [reply]}


def route_after_reply(state: CoachState) -> Literal["assess_reply", "debrief"]:
    return "debrief" if state.get("end_requested") else "assess_reply"


def assess_reply(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """Score the transcript so far; the reply's findings, hint and model answer; the persona reacts."""
    ctx, scenario = runtime.context, state["scenario"]
    transcript = state["transcript"]
    feedback, failing = assess(
        ctx,
        conversation=practice_conversation(state["session_id"], state["agent"], scenario, transcript),
        reply_turn=transcript[-1].index,
        previously_failing=state.get("failing", []),
        scenario=scenario,
        pool=ctx.pools.pool(state["agent"].tenant),
    )
    persona = persona_machine.after_reply(state["persona"], [f.rule_id for f in feedback.findings], scenario.objections)
    return {"feedback": [feedback], "failing": failing, "persona": persona}


def route_after_assess(state: CoachState) -> Literal["customer_turn", "debrief"]:
    return "debrief" if state["persona"].phase == "done" else "customer_turn"


def debrief(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """The debrief of the whole session."""
    persona = state["persona"]
    result, _ = build_debrief(
        runtime.context,
        session_id=state["session_id"],
        agent=state["agent"],
        scenario=state["scenario"],
        transcript=state.get("transcript", []),
        feedback=state.get("feedback", []),
        profile=state["profile"],
        ended_early=bool(persona.pending) or persona.phase != "done",
    )
    return {"debrief": result}


def record_results(state: CoachState, runtime: Runtime[CoachContext]) -> dict[str, Any]:
    """Store the session's results once (a repeat finds them stored and changes nothing)."""
    result = state["debrief"]
    store_results(
        runtime.context.store,
        state["session_id"],
        scores=result.scores,
        total=result.total,
        outcomes=[RuleOutcome(t.rule_id, t.code, t.verdict.value) for t in result.targets],
        debrief=result.model_dump(mode="json"),
    )
    return {"recorded": True}
