"""Practice-session models: scenario, persona, turns, per-reply feedback and the debrief (pydantic)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models import Dimension, Evidence, Verdict
from tools.coaching.models import ModelAnswer


class Mood(StrEnum):
    CALM = "calm"
    ANXIOUS = "anxious"
    UPSET = "upset"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Persona(BaseModel):
    """The customer the simulator plays."""

    age: int = Field(ge=18, le=100)
    occupation: str
    risk_tolerance: Literal["low", "medium", "high"]
    liquidity_need: str
    mood: Mood


class HiddenObjection(BaseModel):
    """A concern the customer keeps back and raises during the session, testing some target rules."""

    id: str
    concern: str
    rules: list[str] = Field(description="Target rules this objection tests.")
    times: int = Field(default=1, ge=1, le=3, description="How often the customer raises it.")


class Scenario(BaseModel):
    """A practice scenario built from the agent's weak rules (or the rules or codes a coach chose)."""

    business_scenario: str = Field(description="The scenario of the rule pack, e.g. wealth_sales.")
    persona: Persona
    goal: str
    objections: list[HiddenObjection]
    target_rules: list[str]
    target_codes: list[str]
    difficulty: Difficulty
    language: Literal["zh", "en"] = "zh"
    rationale: str = Field(description="Why these rules: the agent's fail rates, or the coach's choice.")


class TurnIntent(StrEnum):
    OPENING = "opening"
    OBJECTION = "objection"
    PRESS = "press"
    CLOSING = "closing"


class PersonaState(BaseModel):
    """The persona state machine: objections still to raise, what was raised, and where the session stands."""

    model_config = ConfigDict(frozen=True)

    pending: list[str] = Field(description="Objection ids still to raise, in order (repeats included).")
    raised: dict[str, int] = Field(default_factory=dict)
    pressed: list[str] = Field(default_factory=list)
    last_intent: TurnIntent | None = None
    last_objection: str | None = None
    press_due: str | None = Field(default=None, description="An objection the last reply failed: insist on it next.")
    phase: Literal["talking", "closing", "done"] = "talking"


class PracticeTurn(BaseModel):
    """One line of the practice transcript."""

    index: int = Field(ge=0)
    role: Literal["customer", "agent"]
    text: str
    intent: TurnIntent | None = None
    objection: str | None = None
    source: Literal["retrieval", "script", "llm", "agent"] = "agent"
    origin: str | None = Field(default=None, description="The real conversation a retrieved line comes from.")
    rejected: list[str] = Field(default_factory=list, description="Why model-written lines were refused.")


class ReplyFinding(BaseModel):
    """A rule the reply broke (or could not be judged on), with the quoted evidence."""

    rule_id: str
    rule_name: str
    code: str
    dimension: Dimension
    verdict: Verdict
    explanation: str
    evidence: list[Evidence]
    tier: str


class ReplyFeedback(BaseModel):
    """What comes back after one agent reply."""

    turn: int
    reply: str
    passed: bool
    findings: list[ReplyFinding]
    hint: str
    model_answer: ModelAnswer | None = None
    scores: dict[Dimension, float] = Field(description="The practice transcript so far, on the four dimensions.")
    total: float


class TargetResult(BaseModel):
    """A target rule at the end of the session."""

    rule_id: str
    rule_name: str
    code: str
    verdict: Verdict
    passed: bool
    evidence: list[Evidence]
    failed_turns: list[int] = Field(default_factory=list, description="Replies flagged with it during the session.")


class NextScenario(BaseModel):
    """What to practise next."""

    rules: list[str]
    codes: list[str]
    difficulty: Difficulty
    reason: str


class Debrief(BaseModel):
    """The end of a session: target rules pass/fail with evidence, practice scores, change since last time."""

    session_id: str
    agent_id: str
    targets: list[TargetResult]
    scores: dict[Dimension, float]
    total: float
    auto_failed: bool
    replies: int
    previous_total: float | None
    improved_rules: list[str] = Field(description="Failed in the previous session, passed now.")
    regressed_rules: list[str] = Field(description="Passed in the previous session, failed now.")
    next_scenario: NextScenario
    notes: list[str] = Field(default_factory=list)
