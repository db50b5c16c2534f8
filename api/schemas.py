"""Request and response bodies of the HTTP API (separate from storage rows)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from api.limits import admission_limits, check_turn_lengths
from core.models import Conversation, Evaluation, Ticket, TicketStatus, Utterance


class EvaluateRequest(Conversation):
    """A conversation to evaluate; `tenant` defaults to the caller's (another tenant is refused)."""

    tenant: str | None = None  # type: ignore[assignment]

    @field_validator("turns")
    @classmethod
    def _turns_within_limits(cls, turns: list[Utterance]) -> list[Utterance]:
        # Checked at admission, before any work: the rule tier's cost grows faster than a turn's length.
        limits = admission_limits.get()
        if limits is not None:
            check_turn_lengths(turns, limits)
        return turns


class EvaluationResult(Evaluation):
    """The evaluation with the tickets it opened (the same shape as `zhijian evaluate --format json`)."""

    tickets: list[Ticket] = Field(default_factory=list)


class RejectedLine(BaseModel):
    line: int
    error: str


class JobCreated(BaseModel):
    job_id: str
    accepted: int
    rejected: list[RejectedLine]


class JobItem(BaseModel):
    seq: int
    conversation_id: str
    status: str
    evaluation_id: str | None
    error: str | None


class JobStatus(BaseModel):
    job_id: str
    total: int
    counts: dict[str, int]
    finished: bool
    items: list[JobItem]


class ConversationSummary(BaseModel):
    id: str
    tenant: str
    head_office: str | None
    branch: str | None
    sub_branch: str | None
    team: str | None
    agent_id: str | None
    channel: str
    scenario: str | None
    content_hash: str
    evaluation_ids: list[str]


class TicketUpdate(BaseModel):
    status: TicketStatus | None = None
    comment: str | None = Field(default=None, min_length=1, max_length=4000)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
