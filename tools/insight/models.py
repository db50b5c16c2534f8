"""Typed results of the insight analyses (what a tool returns, what an answer quotes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SubjectKind = Literal["agent", "team", "branch", "sub_branch", "scenario", "scope", "concern"]
GroupLevel = Literal["agent", "team", "branch", "sub_branch", "scenario"]
MIN_N = 5
"""Below this many calls a rate is reported but called too small to conclude from."""


class Slice(BaseModel):
    """Which calls an analysis looks at, inside the caller's scope (never widening it)."""

    agent_id: str | None = None
    team: str | None = None
    branch: str | None = None
    sub_branch: str | None = None
    scenario: str | None = None
    exclude_agent: str | None = Field(default=None, description="Leave this agent's calls out (a team's others).")

    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.model_dump().items() if v is not None]
        return ",".join(parts) or "scope"


class Fact(BaseModel):
    """A number with its baseline and the number of calls behind each."""

    metric: str
    scope: str = Field(description="Whose number it is, e.g. 'agent:A017'.")
    value: float | None
    baseline: float | None = None
    baseline_scope: str | None = Field(default=None, description="What the baseline is, e.g. 'team:X (others)'.")
    n: int = Field(description="Calls behind the value.")
    baseline_n: int | None = None
    small_n: bool = Field(default=False, description="n is too small to conclude from.")


class RuleRate(BaseModel):
    """How often one rule fails in a slice: failing calls over calls it applies to."""

    rule_id: str
    code: str
    rule_name: str | None = None
    fails: int
    n: int
    rate: float | None


class Cause(BaseModel):
    """A rule that fails more often for the subject than for its baseline."""

    code: str
    rule_id: str
    rule_name: str | None = None
    rate: float | None
    baseline: float | None
    n: int
    fails: int
    baseline_n: int
    small_n: bool = False


class EvidenceQuote(BaseModel):
    """A quoted turn of a stored call that shows a finding or a pattern."""

    conversation_id: str
    turn: int
    quote: str
    why: str
    agent_id: str | None = None
    role: str | None = None


class WeekPoint(BaseModel):
    week: str = Field(description="The Monday the week starts on.")
    n: int
    total: float | None
    conversion: float | None = None
    conversion_n: int = 0


class DimensionScores(BaseModel):
    """Mean dimension scores (0–100) and total over n calls."""

    n: int
    total: float | None
    compliance: float | None
    attitude: float | None
    competence: float | None
    experience: float | None


class OutcomeRates(BaseModel):
    conversion: float | None
    conversion_n: int
    csat: float | None
    csat_n: int


class AgentProfile(BaseModel):
    """One agent against team (others), branch and the caller's whole visible scope."""

    agent_id: str
    team: str | None
    branch: str | None
    scores: DimensionScores
    team_scores: DimensionScores | None
    branch_scores: DimensionScores | None
    scope_scores: DimensionScores
    outcomes: OutcomeRates
    team_outcomes: OutcomeRates | None
    rule_rates: list[RuleRate]
    team_rule_rates: list[RuleRate]
    causes: list[Cause]
    trend: list[WeekPoint]
    evidence: list[EvidenceQuote]
    facts: list[Fact]


class GroupRow(BaseModel):
    """One agent/team/branch/scenario in a comparison."""

    key: str
    n: int
    total: float | None
    compliance: float | None
    attitude: float | None
    competence: float | None
    experience: float | None
    conversion: float | None
    conversion_n: int
    csat: float | None
    csat_n: int
    fail_rate: float | None = Field(default=None, description="Share of calls failing the requested code/rule.")
    fails: int = 0
    small_n: bool = False


class Comparison(BaseModel):
    """Groups sorted worst first by `metric`, and the whole scope as the baseline."""

    level: GroupLevel
    metric: str
    rows: list[GroupRow]
    overall: GroupRow
    code: str | None = None
    dimension: str | None = None
    scenario: str | None = None


class Driver(BaseModel):
    """How an outcome differs between calls failing a code and calls not failing it."""

    code: str
    outcome: Literal["conversion", "csat"]
    with_fail: float | None
    without_fail: float | None
    effect: float | None = Field(description="with_fail − without_fail (rate points or CSAT points).")
    n_with: int
    n_without: int
    p_value: float | None = None
    small_n: bool


class Drivers(BaseModel):
    outcome: Literal["conversion", "csat"]
    n: int
    drivers: list[Driver]
    note: str | None = None


class TopicQuote(BaseModel):
    conversation_id: str
    turn: int
    quote: str
    scenario: str | None


class Topic(BaseModel):
    """A cluster of customer turns, labelled by its distinctive terms."""

    topic_id: int
    label: str
    terms: list[str]
    turns: int
    conversations: int
    by_scenario: dict[str, int]
    examples: list[TopicQuote]


class CustomerNeeds(BaseModel):
    turns: int
    conversations: int
    encoder: str
    topics: list[Topic]
    seconds: float


class ScriptExample(BaseModel):
    conversation_id: str
    agent_id: str | None
    concern_turn: int
    concern: str
    reply_turn: int
    reply: str
    converted: bool


class GoldenScripts(BaseModel):
    """Agent replies to a customer concern: converted calls contrasted with unconverted ones."""

    concern: str
    n_converted: int
    n_unconverted: int
    converted: list[ScriptExample]
    unconverted: list[ScriptExample]
    converted_terms: list[str]
    unconverted_terms: list[str]


class RiskCall(BaseModel):
    conversation_id: str
    agent_id: str | None
    branch: str | None
    codes: list[str]
    csat: int | None
    risk_level: str
    quote: str | None
    turn: int | None


class SearchHit(BaseModel):
    conversation_id: str
    agent_id: str | None
    scenario: str | None
    turn: int
    role: str
    quote: str
