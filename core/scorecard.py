"""Scorecards and rules as data: what a rule checks, how much it costs, how it is scored.

A rule's ``check`` is one of a closed set of deterministic check kinds (tier 0), or ``semantic``
for criteria only a language model can judge. Rule packs are YAML files validated against these
models, so a bad rule is an error naming the field, never a silent skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.models import Channel, Dimension, Role, Severity, Verdict
from core.taxonomy import CATEGORIES
from core.yamldoc import load_yaml


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


CHECK_DEFAULTS = Path(__file__).resolve().parent.parent / "knowledge" / "lexicons" / "check_defaults.yaml"


class PatternMatch(Protocol):
    """What the rule tier uses of a match."""

    def start(self) -> int: ...
    def end(self) -> int: ...


class PackPattern(Protocol):
    """A compiled rule-pack pattern (RE2: linear time in the text, whatever the pattern)."""

    def search(self, text: str) -> PatternMatch | None: ...
    def finditer(self, text: str) -> Iterator[PatternMatch]: ...


def pattern_options() -> re2.Options:
    """How every rule-pack pattern is compiled: case-insensitive, errors raised rather than logged."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


@lru_cache(maxsize=8192)
def compile_pattern(pattern: str) -> PackPattern:
    """Compile a rule-pack pattern with RE2, case-insensitive; raises ValueError when RE2 cannot compile it.

    Packs are uploaded by tenants, so their patterns must never backtrack: RE2 has no backtracking (and so no
    look-arounds or back-references) and runs in time linear in the text.
    """
    try:
        compiled: PackPattern = re2.compile(pattern, pattern_options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = "; look-arounds and back-references are not supported" if "perl operator" in reason else ""
        raise ValueError(
            f"invalid regular expression {pattern!r} for the linear-time engine RE2: {reason}{hint}"
        ) from None
    return compiled


def _compile_all(patterns: list[str]) -> list[str]:
    for p in patterns:
        compile_pattern(p)
    return patterns


@lru_cache(maxsize=1)
def check_defaults() -> dict[str, Any]:
    """Default pattern lists of the check kinds (knowledge/lexicons/check_defaults.yaml, versioned data)."""
    document: dict[str, Any] = load_yaml(CHECK_DEFAULTS.read_text(encoding="utf-8"), packaged=True)
    return document


def _default(section: str, key: str) -> list[str]:
    return list(check_defaults()[section][key])


class Matcher(_Spec):
    """Regular expressions matched against the turns of one role (or any role)."""

    patterns: list[str] = Field(min_length=1)
    role: Role | None = None
    negation_aware: bool = Field(
        default=True,
        description="A negated mention is not the event ('不保本'); false where the negated form is the event "
        "('取现是没有手续费的' for a wrong-information rule).",
    )

    _check_patterns = field_validator("patterns")(_compile_all)


class Window(_Spec):
    """Restricts a check to part of the conversation. All given limits apply together."""

    first_turns: int | None = Field(default=None, ge=1)
    last_turns: int | None = Field(default=None, ge=1)
    first_seconds: float | None = Field(default=None, gt=0)
    after: Matcher | None = None
    span: int | None = Field(default=None, ge=1, description="With after: only this many turns after the event.")
    before: Matcher | None = None


class WeakPhrases(_Spec):
    """Phrases that breach a forbidden check only in context ('没有风险' about a product, not about a transfer).

    In ``scenarios`` they count as they stand; elsewhere (or with no scenario) only when the turn, or one of the
    two turns before it, names what makes them a breach (``context``: a product, a return, an investment).
    """

    patterns: list[str] = Field(min_length=1)
    context: list[str] = Field(min_length=1)
    context_turns: int = Field(default=2, ge=0, le=5, description="How many turns before the match may hold it.")
    scenarios: list[str] = Field(default_factory=list, description="Where the phrases count without context.")

    _check_patterns = field_validator("patterns", "context")(_compile_all)


class ForbiddenCheck(_Spec):
    """Fails when a turn says something it must not (a promise, a threat, a rude phrase)."""

    type: Literal["forbidden"] = "forbidden"
    patterns: list[str] = Field(min_length=1)
    role: Role | None = Role.AGENT
    window: Window | None = None
    unless: list[str] = Field(default_factory=list, description="Patterns that clear a match in the same turn.")
    negation_aware: bool = Field(default=True, description="'不保本' is not '保本'.")
    skip_quoting: bool = Field(
        default=True,
        description="An agent repeating the customer's words, or denying them, is not saying them.",
    )
    when: Matcher | None = Field(default=None, description="The rule applies only where this matches.")
    min_hits: int = Field(default=1, ge=1, description="How many matching turns make a failure.")
    weak: WeakPhrases | None = Field(default=None, description="Phrases that count only in context.")

    _check_patterns = field_validator("patterns", "unless")(_compile_all)


class RequiredCheck(_Spec):
    """Fails when a required statement (a script line, a disclosure) is never made."""

    type: Literal["required"] = "required"
    phrases: list[str] = Field(default_factory=list, description="Script lines matched fuzzily.")
    patterns: list[str] = Field(default_factory=list, description="Regular expressions, any of which satisfies.")
    role: Role | None = Role.AGENT
    window: Window | None = None
    threshold: float = Field(default=80, ge=50, le=100, description="Fuzzy match score (0-100) for phrases.")
    when: Matcher | None = None
    waived_by: Matcher | None = Field(default=None, description="Where this matches the requirement does not apply.")

    _check_patterns = field_validator("patterns")(_compile_all)

    @model_validator(mode="after")
    def _something_required(self) -> RequiredCheck:
        if not self.phrases and not self.patterns:
            raise ValueError("a required check needs phrases or patterns")
        return self


class OrderCheck(_Spec):
    """Fails when ``then`` happens without ``first`` having happened before it."""

    type: Literal["order"] = "order"
    first: Matcher
    then: Matcher
    when: Matcher | None = None
    waived_by: Matcher | None = Field(
        default=None,
        description="Where this matches the order does not apply (a third party on the line is a privacy matter).",
    )


class TimingCheck(_Spec):
    """Checks computed from turn timestamps; not applicable when the transcript has none."""

    type: Literal["timing"] = "timing"
    metric: Literal["silence", "reply_latency", "overtalk", "speech_rate"]
    threshold: float = Field(gt=0, description="Seconds (silence, latency, overlap) or characters per minute.")
    min_count: int = Field(default=1, ge=1, description="How many occurrences make a failure.")
    announce: list[str] = Field(
        default_factory=lambda: _default("timing", "announce"),
        description="For silence: an agent turn matching these announced the hold.",
    )

    _check_patterns = field_validator("announce")(_compile_all)


class ConsistencyCheck(_Spec):
    """A customer contradicts or corrects an answer to a closed question and the agent moves on."""

    type: Literal["consistency"] = "consistency"
    question: list[str] = Field(default_factory=lambda: _default("consistency", "question"))
    correction: list[str] = Field(default_factory=lambda: _default("consistency", "correction"))
    reconfirm: list[str] = Field(default_factory=lambda: _default("consistency", "reconfirm"))
    clarified: list[str] = Field(
        default_factory=lambda: _default("consistency", "clarified"),
        description="The customer explains the slip away themselves.",
    )
    moves_on: list[str] = Field(
        default_factory=lambda: _default("consistency", "moves_on"),
        description="A reconfirmation cue after one of these is the next item ('最后确认一下'), not a reconfirmation.",
    )

    _check_patterns = field_validator("question", "correction", "reconfirm", "clarified", "moves_on")(_compile_all)


class DistressCheck(_Spec):
    """An upset customer whose feeling the agent neither acknowledges nor answers by handling the problem.

    Below ``intense`` distress, an agent who visibly takes the problem in hand (``handling``) has answered it;
    an exchange that ends with the customer calm and thanking (``appeased``) after such handling passes too.
    Intense distress (anger, complaint threats) needs an explicit acknowledgement.
    """

    type: Literal["distress"] = "distress"
    threshold: float = Field(default=0.5, ge=0, le=1, description="Distress score that counts as upset.")
    intense: float = Field(default=0.9, ge=0, le=1, description="Distress that only an acknowledgement answers.")
    acknowledge: list[str] = Field(default_factory=lambda: _default("distress", "acknowledge"))
    handling: list[str] = Field(default_factory=lambda: _default("distress", "handling"))
    appeased: list[str] = Field(default_factory=lambda: _default("distress", "appeased"))
    # A parting shot ("算了", "再也不用你们的卡") answered by the agent's goodbye ends the call badly (X02): no
    # feeling left unanswered while the call goes on.
    resigned: list[str] = Field(default_factory=lambda: _default("distress", "resigned"))
    farewell: list[str] = Field(default_factory=lambda: _default("distress", "farewell"))
    within_agent_turns: int = Field(default=2, ge=1)

    _check_patterns = field_validator("acknowledge", "handling", "appeased", "resigned", "farewell")(_compile_all)


class SemanticCheck(_Spec):
    """A criterion in natural language, judged by the LLM tier; not evaluated without one."""

    type: Literal["semantic"] = "semantic"
    criterion: str = Field(min_length=10)
    rubric: list[str] = Field(default_factory=list)
    when: Matcher | None = None
    window: Window | None = Field(default=None, description="Where the trigger must occur (e.g. the last turns).")
    discharged_by: Matcher | None = Field(
        default=None,
        description="A trigger is discharged when the agent turn just before or just after it matches: the agent "
        "already reconfirmed or explained, so the criterion cannot hold there.",
    )


class SurveyCheck(_Spec):
    """The customer's own post-call rating (``outcome.csat``, 1–5) at or below ``csat_at_most``.

    A survey score is the customer's word on how the call ended, not an inference from its wording; a conversation
    without one is not applicable."""

    type: Literal["survey"] = "survey"
    csat_at_most: int = Field(default=1, ge=1, le=4)


Check = Annotated[
    ForbiddenCheck
    | RequiredCheck
    | OrderCheck
    | TimingCheck
    | ConsistencyCheck
    | DistressCheck
    | SemanticCheck
    | SurveyCheck,
    Field(discriminator="type"),
]


class RuleExample(_Spec):
    """A transcript snippet and the verdict the rule must reach on it (run as a unit test)."""

    expect: Literal[Verdict.FAIL, Verdict.PASS, Verdict.NOT_APPLICABLE]
    transcript: str = Field(min_length=3)
    scenario: str | None = None
    channel: Channel | None = None
    csat: int | None = Field(default=None, ge=1, le=5, description="The customer's rating, for survey checks.")


DEFAULT_PRIORITY = {
    Dimension.COMPLIANCE: 100,
    Dimension.COMPETENCE: 70,
    Dimension.EXPERIENCE: 60,
    Dimension.ATTITUDE: 50,
}


class Rule(_Spec):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    name: str = Field(min_length=2)
    code: str
    dimension: Dimension | None = None
    description: str = ""
    scenarios: list[str] = Field(default_factory=list, description="Empty means every scenario.")
    channels: list[Channel] = Field(default_factory=list, description="Empty means every channel.")
    deduction: float = Field(ge=0, le=100)
    severity: Severity = Severity.MEDIUM
    auto_fail: bool = False
    priority: int | None = None
    confidence: float | None = Field(default=None, gt=0, le=1)
    regulation_refs: list[str] = Field(default_factory=list)
    check: Check
    examples: list[RuleExample] = Field(min_length=2)

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in CATEGORIES:
            raise ValueError(f"unknown category code {code!r}; valid: {', '.join(CATEGORIES)}")
        return code

    @model_validator(mode="after")
    def _examples_cover_both_outcomes(self) -> Rule:
        expected = {e.expect for e in self.examples}
        if Verdict.FAIL not in expected:
            raise ValueError(f"rule {self.id}: needs at least one failing example")
        if not expected & {Verdict.PASS, Verdict.NOT_APPLICABLE}:
            raise ValueError(f"rule {self.id}: needs at least one passing example")
        return self

    @property
    def effective_dimension(self) -> Dimension:
        return self.dimension or CATEGORIES[self.code].dimension

    @property
    def effective_priority(self) -> int:
        return self.priority if self.priority is not None else DEFAULT_PRIORITY[self.effective_dimension]


class DimensionPolicy(_Spec):
    weight: float = Field(gt=0, le=1)


class Thresholds(_Spec):
    review_below_confidence: float = Field(default=0.7, gt=0, le=1)
    ticket_below_total: float = Field(default=85, ge=0, le=100)
    ticket_at_risk: Literal["low", "medium", "high", "critical"] = "medium"


class Scorecard(_Spec):
    """A versioned rule pack: dimension weights, thresholds and rules."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: str = Field(min_length=1)
    title: str = ""
    dimensions: dict[Dimension, DimensionPolicy]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Scorecard:
        if set(self.dimensions) != set(Dimension):
            missing = sorted(set(Dimension) - set(self.dimensions))
            raise ValueError(f"dimensions must list all four; missing {missing}")
        total = sum(p.weight for p in self.dimensions.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"dimension weights must add up to 1, not {total:g}")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id}")
            seen.add(rule.id)
        return self

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r} in scorecard {self.name} {self.version}")
