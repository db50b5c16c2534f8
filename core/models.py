"""Domain models: conversations in, evaluations, findings and tickets out (pydantic v2)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Role(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"


class Channel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    VIDEO = "video"


class Dimension(StrEnum):
    """The four scoring dimensions of a QA scorecard."""

    COMPLIANCE = "compliance"
    ATTITUDE = "attitude"
    COMPETENCE = "competence"
    EXPERIENCE = "experience"

    @property
    def label_zh(self) -> str:
        return _DIMENSION_ZH[self]


_DIMENSION_ZH = {
    Dimension.COMPLIANCE: "合规",
    Dimension.ATTITUDE: "服务态度",
    Dimension.COMPETENCE: "业务能力",
    Dimension.EXPERIENCE: "客户体验",
}


class Verdict(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    NOT_APPLICABLE = "not_applicable"
    NOT_EVALUATED = "not_evaluated"


class Tier(StrEnum):
    """Which tier of the small-first pipeline decided a finding."""

    RULES = "rules"
    SMALL_MODEL = "small_model"
    LLM = "llm"
    HUMAN = "human"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


Seconds = Annotated[float, Field(ge=0)]


ROLE_ALIASES: dict[str, Role] = {
    **{a: Role.AGENT for a in ("agent", "坐席", "座席", "客服", "专员", "客户经理", "理财经理", "催收员", "回访专员")},
    **{a: Role.CUSTOMER for a in ("customer", "客户", "用户", "来电人", "顾客", "client", "caller")},
    **{a: Role.SYSTEM for a in ("system", "系统", "ivr")},
}


class Utterance(BaseModel):
    """One turn of a conversation; times are seconds from the start of the call."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    index: int = Field(ge=0)
    role: Role
    text: str = Field(max_length=100_000)
    start: Seconds | None = None
    end: Seconds | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return ROLE_ALIASES.get(value.strip().lower(), value)
        return value

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _end_after_start(self) -> Utterance:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"turn {self.index}: end {self.end} is before start {self.start}")
        return self

    @property
    def timed(self) -> bool:
        return self.start is not None and self.end is not None


class Outcome(BaseModel):
    model_config = ConfigDict(extra="ignore")

    converted: bool | None = None
    csat: int | None = Field(default=None, ge=1, le=5)


class VoiceMetrics(BaseModel):
    """Measured from a recording's timestamps and waveform."""

    duration_s: float
    talk_s: dict[Role, float]
    talk_listen_ratio: float | None = Field(description="Agent talk time over customer talk time.")
    silence_s: float
    longest_silence_s: float
    overtalk_s: float
    speech_rate_cpm: dict[Role, float] = Field(description="Characters (or words) per minute of own talk.")
    loudness_dbfs: list[float | None] = Field(description="RMS loudness of each turn, in dBFS.")


class TranscriptQuality(BaseModel):
    """Whether an ASR transcript can be judged, from the recogniser's own per-segment signals."""

    judgeable: bool
    reason: str | None = Field(default=None, description="Why not, in words a reviewer can act on.")
    no_speech_prob: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None


class Conversation(BaseModel):
    """A call or chat to evaluate, with where it sits in the organisation."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    tenant: str = Field(default="default", min_length=1, max_length=100)
    head_office: str | None = None
    branch: str | None = None
    sub_branch: str | None = None
    team: str | None = None
    agent_id: str | None = None
    channel: Channel = Channel.PHONE
    scenario: str | None = None
    product: str | None = None
    started_at: datetime | None = None
    outcome: Outcome = Field(default_factory=Outcome)
    turns: list[Utterance] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list, description="Facts about how the transcript was made.")
    voice: VoiceMetrics | None = Field(default=None, description="Timing and voice metrics of a recording.")
    transcript_quality: TranscriptQuality | None = Field(
        default=None,
        description="ASR quality gate of a recording; a transcript below it is not scored with confidence.",
    )

    @model_validator(mode="before")
    @classmethod
    def _number_turns(cls, data: Any) -> Any:
        # Input files usually omit the index; it is the position in the list.
        if isinstance(data, dict) and isinstance(data.get("turns"), list):
            data = dict(data)
            data["turns"] = [
                {**t, "index": t.get("index", i)} if isinstance(t, dict) else t for i, t in enumerate(data["turns"])
            ]
        return data

    @model_validator(mode="after")
    def _indexes_in_order(self) -> Conversation:
        for position, turn in enumerate(self.turns):
            if turn.index != position:
                raise ValueError(f"turn indexes must be 0..n-1 in order; found {turn.index} at {position}")
        return self

    @property
    def timed(self) -> bool:
        return all(t.timed for t in self.turns)

    def content_hash(self) -> str:
        """Hash of everything that can change a verdict (not of bookkeeping such as notes)."""
        payload = self.model_dump(mode="json", exclude={"notes", "voice", "transcript_quality"})
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Evidence(BaseModel):
    """A quoted span of one turn that supports a finding."""

    turn: int = Field(ge=0)
    role: Role
    quote: str
    start: float | None = None
    end: float | None = None


class Citation(BaseModel):
    """A regulation clause a finding breaks: as declared by the rule, or retrieved by the finding's evidence."""

    clause_id: str
    title: str
    article: str
    text: str
    source: Literal["rule", "retrieval"]
    score: float | None = None


class Finding(BaseModel):
    """The verdict of one rule on one conversation, with evidence and provenance."""

    rule_id: str
    rule_name: str
    code: str
    dimension: Dimension
    verdict: Verdict
    severity: Severity
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    tier: Tier
    explanation: str
    deduction: float = Field(default=0, ge=0, description="Points taken off the dimension score.")
    auto_fail: bool = False
    needs_review: bool = False
    regulation_refs: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    model: str | None = Field(
        default=None, description="The model that gave this verdict (a language model, or the tier-1 model version)."
    )
    prompt_version: str | None = None
    probability: float | None = Field(
        default=None, ge=0, le=1, description="The deciding model's calibrated probability of a violation."
    )
    suppressed_by: str | None = Field(
        default=None, description="Rule id of a higher-priority finding on the same passage."
    )


class LlmUsage(BaseModel):
    """What the LLM tier cost for one evaluation."""

    model: str
    prompt_version: str
    calls: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_tokens: bool = Field(default=False, description="True when the model reported no usage.")
    seconds: float = 0


class Evaluation(BaseModel):
    """The scored result of one conversation under one rule-pack version."""

    id: str
    conversation_id: str
    tenant: str
    agent_id: str | None
    scores: dict[Dimension, float]
    total: float
    auto_failed: bool
    risk_level: RiskLevel
    needs_review: bool
    findings: list[Finding] = Field(
        description="Failures and rules that could not be evaluated, with evidence; passes are only in `verdicts`."
    )
    verdicts: dict[str, Verdict] = Field(default_factory=dict, description="Every rule of the pack → its verdict.")
    rule_pack: str
    rule_pack_version: str
    verdict_version: str = Field(
        default="", description="The rule pack's version plus the tier-1 model's and the LLM's: what decided this."
    )
    content_hash: str
    created_at: datetime
    timings_ms: dict[str, float] = Field(default_factory=dict)
    llm: LlmUsage | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        """Every violation found, including those outranked by a higher-priority one (deducted once)."""
        return [f for f in self.findings if f.verdict is Verdict.FAIL]


class TicketStatus(StrEnum):
    """Where a ticket stands; who may move it where is core.ticket_workflow."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # the agent has read it
    IN_PROGRESS = "in_progress"  # a supervisor has taken it up
    REMEDIATION_SUBMITTED = "remediation_submitted"  # the agent's remediation note awaits a decision
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class TicketFinding(BaseModel):
    rule_id: str
    code: str
    rule_name: str
    severity: Severity
    evidence: list[Evidence]


class TicketComment(BaseModel):
    author: str
    text: str = Field(min_length=1, max_length=4000)
    at: datetime


class Ticket(BaseModel):
    """A remediation task for an agent and their supervisor, raised by an evaluation."""

    id: str
    evaluation_id: str
    conversation_id: str
    tenant: str
    agent_id: str | None
    team: str | None
    priority: Severity
    title: str
    findings: list[TicketFinding]
    due_at: datetime
    status: TicketStatus = TicketStatus.OPEN
    comments: list[TicketComment] = Field(default_factory=list)
    created_at: datetime
