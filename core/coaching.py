"""Tables of practice sessions (coach agent): the sessions, each trained rule's result, and cached line vectors.

A session row carries the practising agent's org path so every read can be scoped in SQL like a conversation.
Results are written once per session (the session id is the idempotency key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store import Base, utc_now


class CoachSessionRow(Base):
    """One practice session of one agent; `debrief` and the scores are filled when it ends."""

    __tablename__ = "coach_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    head_office: Mapped[str | None] = mapped_column(String(100))
    branch: Mapped[str | None] = mapped_column(String(100), index=True)
    sub_branch: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    agent_id: Mapped[str] = mapped_column(String(100), index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | ended
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON)
    target_rules: Mapped[list[str]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    compliance: Mapped[float | None] = mapped_column(Float)
    attitude: Mapped[float | None] = mapped_column(Float)
    competence: Mapped[float | None] = mapped_column(Float)
    experience: Mapped[float | None] = mapped_column(Float)
    debrief: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CoachRuleResultRow(Base):
    """Whether one trained (target) rule passed in one session: the basis of practice progress."""

    __tablename__ = "coach_rule_results"
    __table_args__ = (UniqueConstraint("session_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("coach_sessions.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    agent_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    code: Mapped[str] = mapped_column(String(8))
    verdict: Mapped[str] = mapped_column(String(16))  # pass | fail | not_applicable | not_evaluated
    passed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class CoachLineVectorRow(Base):
    """Embedding of a customer line (keyed by model and text hash), so the pool is embedded once."""

    __tablename__ = "coach_line_vectors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
