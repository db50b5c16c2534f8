"""Typed results of the coaching tools: weakness profiles, customer lines, model answers, practice progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AgentOrg(BaseModel):
    """Where an agent sits in the organisation (from their latest stored conversation)."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    agent_id: str
    head_office: str | None = None
    branch: str | None = None
    sub_branch: str | None = None
    team: str | None = None

    def path(self) -> dict[str, str | None]:
        """The org levels, as `Principal.sees(**path)` takes them."""
        return {
            "head_office": self.head_office,
            "branch": self.branch,
            "sub_branch": self.sub_branch,
            "team": self.team,
        }


class RuleWeakness(BaseModel):
    """How often an agent failed one rule in real calls where the rule applied."""

    rule_id: str
    code: str
    rule_name: str
    failed: int
    applicable: int
    fail_rate: float = Field(ge=0, le=1)


class WeaknessProfile(BaseModel):
    """An agent's weak rules, worst first, from their stored evaluations."""

    agent: AgentOrg
    evaluations: int
    weaknesses: list[RuleWeakness]
    scenarios: dict[str, int] = Field(default_factory=dict, description="Scenario → the agent's calls in it.")


class CustomerLine(BaseModel):
    """A real customer turn (redacted) with where it came from and how the agent answered it."""

    model_config = ConfigDict(frozen=True)

    text: str
    conversation_id: str
    turn: int
    scenario: str | None
    source: str  # "store" or "labelled"
    opening: bool = Field(description="Among the customer's first two turns.")
    closing: bool = Field(description="Among the customer's last two turns.")
    converted: bool | None = None
    failed_codes: frozenset[str] = frozenset()
    failed_rules: frozenset[str] = frozenset()
    reply: str | None = Field(default=None, description="The agent's next turn.")
    reply_turn: int | None = None


class ModelAnswer(BaseModel):
    """A golden-script turn: what an agent said in a real converted call to a similar concern."""

    conversation_id: str
    turn: int
    quote: str
    customer_concern: str
    rule_id: str
    similarity: float
    source: str


class SessionSummary(BaseModel):
    """One practice session in an agent's history."""

    session_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    target_rules: list[str]
    total: float | None
    passed_rules: list[str]
    failed_rules: list[str]


class RuleProgress(BaseModel):
    """One trained rule: practice pass rate, and the fail rate in real calls before and after practice."""

    rule_id: str
    code: str
    sessions: int
    passed: int
    pass_rate: float
    first_practised: datetime
    real_calls_before: int
    real_fail_rate_before: float | None
    real_calls_after: int
    real_fail_rate_after: float | None


class AgentProgress(BaseModel):
    """Practice history of an agent and what it changed in their real calls."""

    tenant: str
    agent_id: str
    sessions: list[SessionSummary]
    rules: list[RuleProgress]
