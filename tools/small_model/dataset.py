"""Training units from labelled conversations, rule-pack examples and written examples.

Each unit is positive for the codes whose labels point at it, negative for the codes of its role it is
not labelled with, and left out ("unknown") for codes a source cannot speak to (a sample conversation
expected to show a code, but without turn labels)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import InputError
from core.models import Conversation, Finding, Role, Verdict
from core.taxonomy import CATEGORIES
from tools.small_model.units import labelled_unit_turns, units_of

EXTRA_GROUP = "extra"  # sources that are never held out in cross-validation


@dataclass(frozen=True)
class TrainingUnit:
    """One turn with its context, and what it teaches each code."""

    text: str
    context: str
    role: Role
    positive: frozenset[str]
    group: str
    source: str
    conversation: str
    turn: int = 0
    unknown: frozenset[str] = field(default_factory=frozenset)
    origin: str = "labelled"  # labelled | rule | sample | written: training weighs each kind
    written_for: str = ""  # the code a written example was written for

    def label(self, code: str) -> bool | None:
        """True: a violation of `code`; False: an example of not violating it; None: says nothing about it."""
        if code in self.positive:
            return True
        if code in self.unknown:
            return None
        return False


def _turns(conversation: Conversation) -> list[tuple[Role, str]]:
    return [(t.role, t.text) for t in conversation.turns]


def units_from_labels(
    conversation: Conversation,
    labels: Sequence[tuple[str, Sequence[int]]],
    *,
    group: str,
    source: str,
    unknown: frozenset[str] = frozenset(),
    origin: str = "labelled",
) -> list[TrainingUnit]:
    """Units of a conversation whose labels give (code, turn indexes) of each violation."""
    turns = _turns(conversation)
    positive_turns: dict[int, set[str]] = {}
    for code, labelled in labels:
        for index in labelled_unit_turns(turns, labelled, code):
            positive_turns.setdefault(index, set()).add(code)
    return [
        TrainingUnit(
            text=u.text,
            context=u.context,
            role=u.role,
            positive=frozenset(positive_turns.get(u.turn, ())),
            unknown=unknown,
            group=group,
            source=f"{source}#{u.turn}",
            conversation=conversation.id,
            turn=u.turn,
            origin=origin,
        )
        for u in units_of(turns)
    ]


def units_from_rule_example(conversation: Conversation, finding: Finding, *, source: str) -> list[TrainingUnit]:
    """Units of a rule's example: a failing example's evidence turns are violations of the rule's code.

    A failure without evidence turns (a missing statement) or a verdict the rule tier could not reach says
    nothing about which turn is the violation, so the example's turns are left out for that code."""
    evidence = [e.turn for e in finding.evidence]
    if finding.verdict is Verdict.FAIL and evidence:
        return units_from_labels(
            conversation, [(finding.code, evidence)], group=EXTRA_GROUP, source=source, origin="rule"
        )
    unknown = frozenset() if finding.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE) else frozenset({finding.code})
    return units_from_labels(conversation, [], group=EXTRA_GROUP, source=source, unknown=unknown, origin="rule")


class WrittenExample(BaseModel):
    """A training example written by the team: a turn, its context, and the code it violates (or none)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    violation: bool
    role: Role = Role.AGENT
    text: str = Field(min_length=2)
    context: str = ""
    note: str = ""

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in CATEGORIES:
            raise ValueError(f"unknown category code {code!r}")
        return code


def units_from_written(paths: Iterable[Path]) -> list[TrainingUnit]:
    """Units from JSONL files of written examples; a violation counts for its code only, a near miss for none.

    Each unit remembers the code it was written for; training decides how much it says about the other codes."""
    units = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                example = WrittenExample.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise InputError(f"{path}:{number}: not a written training example: {exc}") from None
            units.append(
                TrainingUnit(
                    text=example.text,
                    context=example.context,
                    role=example.role,
                    positive=frozenset({example.code}) if example.violation else frozenset(),
                    group=EXTRA_GROUP,
                    source=f"{path.name}:{number}",
                    conversation=f"{path.name}:{number}",
                    origin="written",
                    written_for=example.code,
                )
            )
    return units
