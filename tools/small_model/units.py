"""The units tier 1 judges: one turn with its context (the nearest earlier turn of the other party)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.models import Conversation, Role

# Codes about what the customer says; every other code is judged on agent turns.
CUSTOMER_CODES = frozenset({"X01", "X02"})


def unit_role(code: str) -> Role:
    """Whose turns carry evidence of a code."""
    return Role.CUSTOMER if code in CUSTOMER_CODES else Role.AGENT


@dataclass(frozen=True)
class Unit:
    """One turn to classify, with the other party's turn just before it as context."""

    turn: int
    role: Role
    text: str
    context: str


def units_of(turns: Sequence[tuple[Role, str]]) -> list[Unit]:
    """Every agent or customer turn with text, each with its context turn (empty at the start)."""
    units: list[Unit] = []
    last: dict[Role, str] = {}
    for index, (role, text) in enumerate(turns):
        if role is Role.SYSTEM or not text.strip():
            continue
        other = Role.CUSTOMER if role is Role.AGENT else Role.AGENT
        units.append(Unit(turn=index, role=role, text=text, context=last.get(other, "")))
        last[role] = text
    return units


def conversation_units(conversation: Conversation) -> list[Unit]:
    """The units of a conversation."""
    return units_of([(t.role, t.text) for t in conversation.turns])


def labelled_unit_turns(turns: Sequence[tuple[Role, str]], labelled: Sequence[int], code: str) -> set[int]:
    """Turn indexes of the units a label's turns point at for `code`.

    A label may point at the other party's turn (the upset customer of S02, the red flag of C11); the unit is
    then that party's next turn of the code's role, i.e. the reply that failed."""
    role = unit_role(code)
    found: set[int] = set()
    for index in labelled:
        if not 0 <= index < len(turns):
            continue
        if turns[index][0] is role:
            found.add(index)
            continue
        for later in range(index + 1, min(index + 3, len(turns))):
            if turns[later][0] is role:
                found.add(later)
                break
    return found
