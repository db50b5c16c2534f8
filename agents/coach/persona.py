"""The persona state machine: opening → every hidden objection (as often as the scenario says; insisting once
when a reply fails the objection's rules) → closing → done. It guarantees every objection is raised."""

from __future__ import annotations

from collections.abc import Collection

from agents.coach.models import HiddenObjection, PersonaState, Scenario, TurnIntent


def start(scenario: Scenario) -> PersonaState:
    """The state before the customer's first line."""
    return PersonaState(pending=[o.id for o in scenario.objections for _ in range(o.times)])


def next_intent(state: PersonaState) -> tuple[TurnIntent, str | None]:
    """What the customer's next line must do, and about which objection."""
    if state.last_intent is None:
        return TurnIntent.OPENING, None
    if state.press_due is not None:
        return TurnIntent.PRESS, state.press_due
    if state.pending:
        return TurnIntent.OBJECTION, state.pending[0]
    return TurnIntent.CLOSING, None


def after_customer_line(state: PersonaState, intent: TurnIntent, objection: str | None) -> PersonaState:
    """The state once the customer has said a line with this intent."""
    update: dict[str, object] = {"last_intent": intent, "last_objection": objection, "press_due": None}
    if intent is TurnIntent.OBJECTION and objection is not None:
        update["pending"] = state.pending[1:]
        update["raised"] = {**state.raised, objection: state.raised.get(objection, 0) + 1}
    elif intent is TurnIntent.PRESS and objection is not None:
        update["pressed"] = [*state.pressed, objection]
    elif intent is TurnIntent.CLOSING:
        update["phase"] = "closing"
    return state.model_copy(update=update)


def after_reply(state: PersonaState, failed_rules: Collection[str], objections: list[HiddenObjection]) -> PersonaState:
    """The state once the agent replied: done after the closing; insist once when an objection was mishandled."""
    if state.phase == "closing":
        return state.model_copy(update={"phase": "done"})
    objection = next((o for o in objections if o.id == state.last_objection), None)
    mishandled = objection is not None and bool(set(objection.rules) & set(failed_rules))
    if state.last_intent is TurnIntent.OBJECTION and mishandled and objection and objection.id not in state.pressed:
        return state.model_copy(update={"press_due": objection.id})
    return state
