"""Persistence (SQLAlchemy 2): conversations, evaluations, findings, tickets and the local PII vault.

SQLite by default; the same code runs on PostgreSQL with a ``postgresql+psycopg://`` URL.
A conversation is identified by tenant + id + content hash, and evaluated at most once per
rule-pack version: re-submitting returns the stored evaluation, a new version adds a second one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from core.errors import StoreError
from core.models import Conversation, Evaluation, Ticket, TicketStatus


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("tenant", "external_id", "content_hash"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    scenario: Mapped[str | None] = mapped_column(String(64))
    head_office: Mapped[str | None] = mapped_column(String(100))
    branch: Mapped[str | None] = mapped_column(String(100), index=True)
    sub_branch: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    agent_id: Mapped[str | None] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted: Mapped[bool | None] = mapped_column(Boolean)
    csat: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the redacted conversation
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class EvaluationRow(Base):
    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("conversation_pk", "rule_pack", "rule_pack_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_pk: Mapped[int] = mapped_column(ForeignKey("conversations.pk"), index=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(100), index=True)
    rule_pack: Mapped[str] = mapped_column(String(100))
    rule_pack_version: Mapped[str] = mapped_column(String(100))
    total: Mapped[float] = mapped_column(Float)
    risk_level: Mapped[str] = mapped_column(String(16), index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    auto_failed: Mapped[bool] = mapped_column(Boolean)
    compliance: Mapped[float] = mapped_column(Float)
    attitude: Mapped[float] = mapped_column(Float)
    competence: Mapped[float] = mapped_column(Float)
    experience: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Evaluation; `verdicts` holds every rule's verdict
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FindingRow(Base):
    """A failure or a not-evaluated rule (passes live only in the evaluation's compact `verdicts`), so analytics
    can query by rule, code and verdict without parsing JSON."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    dimension: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(16))
    deduction: Mapped[float] = mapped_column(Float)
    probability: Mapped[float | None] = mapped_column(Float)
    suppressed_by: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[list[Any]] = mapped_column(JSON)  # [{"turn", "role", "quote"}]


class TicketRow(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), unique=True)  # idempotency key
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(100), index=True)
    team: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LlmVerdictRow(Base):
    """Cached model verdicts keyed by (prompt version, model, rule, window text) hash."""

    __tablename__ = "llm_verdicts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(50))
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class PiiVaultRow(Base):
    """Placeholder → original value, per conversation. Local only: never in evaluations, never sent out."""

    __tablename__ = "pii_vault"
    __table_args__ = (UniqueConstraint("conversation_pk", "placeholder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_pk: Mapped[int] = mapped_column(ForeignKey("conversations.pk"), index=True)
    placeholder: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL and foreign keys, and its folder is created."""
    if url.startswith("sqlite"):
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Reads and writes the operational data; one per process, passed to whoever needs it."""

    def __init__(self, engine: Engine) -> None:
        import core.accounts
        import core.coaching
        import core.jobs
        import core.scorecards  # noqa: F401  (their tables are part of the schema)

        self.engine = engine
        Base.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(create_db_engine(url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def find_evaluation(
        self, *, tenant: str, conversation_id: str, content_hash: str, rule_pack: str, rule_pack_version: str
    ) -> Evaluation | None:
        """The stored evaluation of this exact conversation content under this rule-pack version, if any."""
        with self.session() as s:
            row = s.scalar(
                select(EvaluationRow)
                .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
                .where(
                    ConversationRow.tenant == tenant,
                    ConversationRow.external_id == conversation_id,
                    ConversationRow.content_hash == content_hash,
                    EvaluationRow.rule_pack == rule_pack,
                    EvaluationRow.rule_pack_version == rule_pack_version,
                )
            )
            return Evaluation.model_validate(row.payload) if row else None

    def save_evaluation(
        self, conversation: Conversation, evaluation: Evaluation, pii: Sequence[tuple[str, str, str]]
    ) -> Evaluation:
        """Store the redacted conversation, its PII vault and the evaluation; returns the stored evaluation
        (an earlier one when the same content was already evaluated under this rule-pack version)."""
        try:
            with self.session() as s:
                conv = self._conversation_row(s, conversation, evaluation.content_hash)
                existing = s.scalar(
                    select(EvaluationRow).where(
                        EvaluationRow.conversation_pk == conv.pk,
                        EvaluationRow.rule_pack == evaluation.rule_pack,
                        EvaluationRow.rule_pack_version == evaluation.rule_pack_version,
                    )
                )
                if existing is not None:
                    return Evaluation.model_validate(existing.payload)
                known = set(s.scalars(select(PiiVaultRow.placeholder).where(PiiVaultRow.conversation_pk == conv.pk)))
                s.add_all(
                    PiiVaultRow(conversation_pk=conv.pk, placeholder=p, kind=k, value=v)
                    for p, k, v in pii
                    if p not in known
                )
                s.add(_evaluation_row(conv.pk, evaluation))
                s.add_all(
                    FindingRow(
                        evaluation_id=evaluation.id,
                        rule_id=f.rule_id,
                        code=f.code,
                        dimension=f.dimension.value,
                        verdict=f.verdict.value,
                        severity=f.severity.value,
                        confidence=f.confidence,
                        tier=f.tier.value,
                        deduction=f.deduction,
                    )
                    for f in evaluation.findings
                )
            return evaluation
        except IntegrityError:
            # Another worker stored the same evaluation first: theirs is the one.
            stored = self.find_evaluation(
                tenant=evaluation.tenant,
                conversation_id=evaluation.conversation_id,
                content_hash=evaluation.content_hash,
                rule_pack=evaluation.rule_pack,
                rule_pack_version=evaluation.rule_pack_version,
            )
            if stored is None:
                raise StoreError(f"could not store evaluation of {evaluation.conversation_id}") from None
            return stored

    @staticmethod
    def _conversation_row(s: Session, conversation: Conversation, content_hash: str) -> ConversationRow:
        row = s.scalar(
            select(ConversationRow).where(
                ConversationRow.tenant == conversation.tenant,
                ConversationRow.external_id == conversation.id,
                ConversationRow.content_hash == content_hash,
            )
        )
        if row is None:
            row = ConversationRow(
                tenant=conversation.tenant,
                external_id=conversation.id,
                content_hash=content_hash,
                channel=conversation.channel.value,
                scenario=conversation.scenario,
                head_office=conversation.head_office,
                branch=conversation.branch,
                sub_branch=conversation.sub_branch,
                team=conversation.team,
                agent_id=conversation.agent_id,
                started_at=conversation.started_at,
                payload=conversation.model_dump(mode="json"),
            )
            s.add(row)
            s.flush()
        return row

    def save_ticket(self, ticket: Ticket) -> Ticket:
        """Store a ticket once per evaluation; a repeat returns the ticket already stored."""
        try:
            with self.session() as s:
                existing = s.scalar(select(TicketRow).where(TicketRow.evaluation_id == ticket.evaluation_id))
                if existing is not None:
                    return Ticket.model_validate(existing.payload)
                s.add(
                    TicketRow(
                        id=ticket.id,
                        evaluation_id=ticket.evaluation_id,
                        tenant=ticket.tenant,
                        agent_id=ticket.agent_id,
                        team=ticket.team,
                        status=ticket.status.value,
                        priority=ticket.priority.value,
                        due_at=ticket.due_at,
                        payload=ticket.model_dump(mode="json"),
                        created_at=ticket.created_at,
                    )
                )
            return ticket
        except IntegrityError:
            stored = self.ticket_for_evaluation(ticket.evaluation_id)
            if stored is None:
                raise StoreError(f"could not store ticket for evaluation {ticket.evaluation_id}") from None
            return stored

    def ticket_for_evaluation(self, evaluation_id: str) -> Ticket | None:
        with self.session() as s:
            row = s.scalar(select(TicketRow).where(TicketRow.evaluation_id == evaluation_id))
            return Ticket.model_validate(row.payload) if row else None

    def evaluations(self, *, tenant: str, conversation_id: str | None = None) -> list[Evaluation]:
        """Stored evaluations of a tenant, newest first (optionally of one conversation)."""
        with self.session() as s:
            query = select(EvaluationRow).where(EvaluationRow.tenant == tenant)
            if conversation_id is not None:
                query = query.where(EvaluationRow.conversation_id == conversation_id)
            rows = s.scalars(query.order_by(EvaluationRow.created_at.desc()))
            return [Evaluation.model_validate(r.payload) for r in rows]

    def tickets(self, *, tenant: str, status: TicketStatus | None = None) -> list[Ticket]:
        with self.session() as s:
            query = select(TicketRow).where(TicketRow.tenant == tenant)
            if status is not None:
                query = query.where(TicketRow.status == status.value)
            return [Ticket.model_validate(r.payload) for r in s.scalars(query.order_by(TicketRow.due_at))]

    def get_llm_verdict(self, key: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(LlmVerdictRow, key)
            return dict(row.verdict) if row else None

    def save_llm_verdict(self, key: str, verdict: dict[str, Any], *, model: str, prompt_version: str) -> None:
        try:
            with self.session() as s:
                if s.get(LlmVerdictRow, key) is None:
                    s.add(LlmVerdictRow(key=key, model=model, prompt_version=prompt_version, verdict=verdict))
        except IntegrityError:
            pass  # another worker cached the same verdict first

    def pii_values(self, *, tenant: str, conversation_id: str) -> dict[str, str]:
        """The vault of a conversation (for an authorised re-identification, never for a model)."""
        with self.session() as s:
            rows = s.execute(
                select(PiiVaultRow.placeholder, PiiVaultRow.value)
                .join(ConversationRow, PiiVaultRow.conversation_pk == ConversationRow.pk)
                .where(ConversationRow.tenant == tenant, ConversationRow.external_id == conversation_id)
            )
            return {p: v for p, v in rows}


def _evaluation_row(conversation_pk: int, evaluation: Evaluation) -> EvaluationRow:
    return EvaluationRow(
        id=evaluation.id,
        conversation_pk=conversation_pk,
        tenant=evaluation.tenant,
        conversation_id=evaluation.conversation_id,
        agent_id=evaluation.agent_id,
        rule_pack=evaluation.rule_pack,
        rule_pack_version=evaluation.rule_pack_version,
        total=evaluation.total,
        risk_level=evaluation.risk_level.value,
        needs_review=evaluation.needs_review,
        auto_failed=evaluation.auto_failed,
        payload=evaluation.model_dump(mode="json"),
        created_at=evaluation.created_at,
    )
