"""Scorecards and rules as data: what a rule checks, how much it costs, how it is scored.

A rule's ``check`` is one of a closed set of deterministic check kinds (tier 0), or ``semantic``
for criteria only a language model can judge. Rule packs are YAML files validated against these
models, so a bad rule is an error naming the field, never a silent skip.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.models import Channel, Dimension, Role, Severity, Verdict
from core.taxonomy import CATEGORIES


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile_all(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {p!r}: {exc}") from None
    return patterns


class Matcher(_Spec):
    """Regular expressions matched against the turns of one role (or any role)."""

    patterns: list[str] = Field(min_length=1)
    role: Role | None = None

    _check_patterns = field_validator("patterns")(_compile_all)


class Window(_Spec):
    """Restricts a check to part of the conversation. All given limits apply together."""

    first_turns: int | None = Field(default=None, ge=1)
    last_turns: int | None = Field(default=None, ge=1)
    first_seconds: float | None = Field(default=None, gt=0)
    after: Matcher | None = None
    span: int | None = Field(default=None, ge=1, description="With after: only this many turns after the event.")
    before: Matcher | None = None


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


class TimingCheck(_Spec):
    """Checks computed from turn timestamps; not applicable when the transcript has none."""

    type: Literal["timing"] = "timing"
    metric: Literal["silence", "reply_latency", "overtalk", "speech_rate"]
    threshold: float = Field(gt=0, description="Seconds (silence, latency, overlap) or characters per minute.")
    min_count: int = Field(default=1, ge=1, description="How many occurrences make a failure.")
    announce: list[str] = Field(
        default_factory=lambda: [
            r"稍等",
            r"稍候",
            r"不要挂机",
            r"别挂",
            r"请您等",
            r"马上.{0,4}查",
            r"查询一下",
        ],
        description="For silence: an agent turn matching these announced the hold.",
    )

    _check_patterns = field_validator("announce")(_compile_all)


class ConsistencyCheck(_Spec):
    """A customer contradicts or corrects an answer to a closed question and the agent moves on."""

    type: Literal["consistency"] = "consistency"
    question: list[str] = Field(
        default_factory=lambda: [r"吗[？?]?$", r"是否", r"是不是", r"有没有", r"对吗", r"对不对", r"能否"]
    )
    correction: list[str] = Field(
        default_factory=lambda: [
            r"其实",
            r"不过",
            r"但是",
            r"不对",
            r"说错",
            r"哦对了",
            r"以前的",
            r"只是",
            r"帮我",
        ]
    )
    reconfirm: list[str] = Field(
        default_factory=lambda: [
            r"再.{0,2}确认",
            r"确认一下",
            r"核实一下",
            r"您是说",
            r"也就是说",
            r"什么情况",
            r"具体",
            r"到底",
            r"再问",
        ]
    )
    clarified: list[str] = Field(
        default_factory=lambda: [r"我以为", r"我是说", r"我的意思是", r"听错", r"没听清"],
        description="The customer explains the slip away themselves.",
    )

    _check_patterns = field_validator("question", "correction", "reconfirm", "clarified")(_compile_all)


class DistressCheck(_Spec):
    """An upset customer whose next agent turns do not acknowledge the feeling."""

    type: Literal["distress"] = "distress"
    threshold: float = Field(default=0.5, ge=0, le=1, description="Distress score that counts as upset.")
    acknowledge: list[str] = Field(
        default_factory=lambda: [
            r"理解",
            r"抱歉",
            r"对不起",
            r"不好意思",
            r"别着急",
            r"别急",
            r"着急",
            r"给您带来",
            r"体谅",
            r"辛苦",
            r"放心",
            r"明白您",
            r"心情",
            r"道歉",
            r"我们的问题",
            r"添麻烦",
            r"失误",
            r"感谢您的(耐心|理解)",
            r"(持续|马上|立即)跟进",
        ]
    )
    within_agent_turns: int = Field(default=2, ge=1)

    _check_patterns = field_validator("acknowledge")(_compile_all)


class SemanticCheck(_Spec):
    """A criterion in natural language, judged by the LLM tier; not evaluated without one."""

    type: Literal["semantic"] = "semantic"
    criterion: str = Field(min_length=10)
    rubric: list[str] = Field(default_factory=list)
    when: Matcher | None = None


Check = Annotated[
    ForbiddenCheck | RequiredCheck | OrderCheck | TimingCheck | ConsistencyCheck | DistressCheck | SemanticCheck,
    Field(discriminator="type"),
]


class RuleExample(_Spec):
    """A transcript snippet and the verdict the rule must reach on it (run as a unit test)."""

    expect: Literal[Verdict.FAIL, Verdict.PASS, Verdict.NOT_APPLICABLE]
    transcript: str = Field(min_length=3)
    scenario: str | None = None
    channel: Channel | None = None


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
