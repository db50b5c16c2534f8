"""The insight answer: a public JSON contract (see docs/insight.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Intent = Literal[
    "agent_diagnosis",
    "agent_vs_team",
    "compare_agents",
    "rank_agents",
    "rank_teams",
    "rank_branches",
    "rank_rules",
    "customer_needs",
    "golden_scripts",
    "trend",
    "drivers",
    "complaint_risk",
    "search",
    "overview",
    "llm",
]


class Subject(BaseModel):
    """Who or what the question is about."""

    kind: Literal["agent", "team", "branch", "sub_branch", "scenario", "scope", "concern"]
    id: str | None = None


class AnswerFact(BaseModel):
    metric: str
    scope: str
    value: float | None
    baseline: float | None = None
    baseline_scope: str | None = None
    n: int
    baseline_n: int | None = None
    small_n: bool = False


class AnswerCause(BaseModel):
    code: str
    rule_id: str
    rule_name: str | None = None
    rate: float | None
    baseline: float | None
    n: int
    baseline_n: int | None = None
    small_n: bool = False


class AnswerEvidence(BaseModel):
    conversation_id: str
    turn: int
    quote: str
    why: str


class ToolUse(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class InsightAnswer(BaseModel):
    """What the insight agent answers: the text, and the numbers, causes and quotes it rests on."""

    question: str
    answer: str
    intent: Intent
    subject: Subject
    facts: list[AnswerFact] = Field(default_factory=list)
    causes: list[AnswerCause] = Field(default_factory=list)
    evidence: list[AnswerEvidence] = Field(default_factory=list)
    tools: list[ToolUse] = Field(default_factory=list)
    thread_id: str | None = None
    notes: list[str] = Field(default_factory=list)
