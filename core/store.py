"""Persistence (SQLAlchemy 2): conversations, evaluations, findings, tickets and the local PII vault.

SQLite by default; the same code runs on PostgreSQL with a ``postgresql+psycopg://`` URL.
A conversation is identified by tenant + id + content hash, and evaluated at most once per
rule-pack version: re-submitting returns the stored evaluation, a new version adds a second one.
An evaluation is stored in one transaction: a compact row, one finding row per failure or
not-evaluated rule (passes live only in the evaluation's ``verdicts``), bulk-inserted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import READ_ONLY, Base, create_db_engine, utc_now
from core.errors import StoreError
from core.models import Conversation, Dimension, Evaluation, Ticket, TicketStatus

__all__ = ["Base", "Store", "create_db_engine", "utc_now"]

VaultEntry = tuple[str, str, str]  # (placeholder, kind, value)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)


class EvaluationRow(Base):
    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("conversation_pk", "rule_pack", "verdict_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_pk: Mapped[int] = mapped_column(ForeignKey("conversations.pk"), index=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(100), index=True)
    rule_pack: Mapped[str] = mapped_column(String(100))
    rule_pack_version: Mapped[str] = mapped_column(String(100))
    verdict_version: Mapped[str] = mapped_column(String(255))  # the pack's version + tier-1 and LLM versions
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
    status: Mapped[str] = mapped_column(String(24), index=True)
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
    """Placeholder → original value (encrypted when the store has a vault cipher), per conversation.
    Local only: never in evaluations, never in graph state, never sent out."""

    __tablename__ = "pii_vault"
    __table_args__ = (UniqueConstraint("conversation_pk", "placeholder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_pk: Mapped[int] = mapped_column(ForeignKey("conversations.pk"), index=True)
    placeholder: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(1000))


class VaultCodec(Protocol):
    """Encrypts vault values at rest (core.vault.VaultCipher)."""

    def encrypt(self, value: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def pseudonym(self, value: str) -> str: ...


_SCORE_COLUMNS = {d: d.value for d in Dimension}


class Store:
    """Reads and writes the operational data; one per process, passed to whoever needs it."""

    def __init__(self, engine: Engine, *, vault: VaultCodec | None = None) -> None:
        self.engine = engine
        self.vault = vault
        _register_tables()
        Base.metadata.create_all(engine)
        _check_schema(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Lookups take no write lock (SQLite WAL readers never wait for a writer, nor make it wait).
        self._reads = sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, vault_key: Path | None = None) -> Store:
        """A store on the URL; with `vault_key`, vault values are encrypted with the key in that file (0600)."""
        vault: VaultCodec | None = None
        if vault_key is not None:
            from core.vault import VaultCipher

            vault = VaultCipher.from_key_file(vault_key)
        return cls(create_db_engine(url), vault=vault)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A transaction that only reads (a consistent snapshot, no write lock)."""
        with self._reads() as session, session.begin():
            yield session

    # ── conversations and their vault ─────────────────────────────────────────────────────────────

    def admit(self, conversation: Conversation, content_hash: str, vault: Sequence[VaultEntry]) -> None:
        """Store a received (redacted) conversation and its vault before it is evaluated; idempotent."""
        try:
            with self.session() as s:
                pk = self._conversation_pk(s, conversation, content_hash)
                self._add_vault(s, pk, vault)
        except IntegrityError:
            with self.session() as s:  # a concurrent intake of the same content stored it first
                pk = self._conversation_pk(s, conversation, content_hash)
                self._add_vault(s, pk, vault)

    def _add_vault(self, s: Session, pk: int, vault: Sequence[VaultEntry]) -> None:
        if not vault:
            return
        known = set(s.scalars(select(PiiVaultRow.placeholder).where(PiiVaultRow.conversation_pk == pk)))
        rows = [
            {"conversation_pk": pk, "placeholder": p, "kind": k, "value": self.vault.encrypt(v) if self.vault else v}
            for p, k, v in vault
            if p not in known
        ]
        if rows:
            s.execute(insert(PiiVaultRow), rows)

    @staticmethod
    def _conversation_pk(s: Session, conversation: Conversation, content_hash: str) -> int:
        pk = s.scalar(
            select(ConversationRow.pk).where(
                ConversationRow.tenant == conversation.tenant,
                ConversationRow.external_id == conversation.id,
                ConversationRow.content_hash == content_hash,
            )
        )
        if pk is not None:
            return pk
        row = ConversationRow(**conversation_row(conversation, content_hash))
        s.add(row)
        s.flush()
        return row.pk

    def pseudonym(self, value: str) -> str:
        """A stable stand-in for a personal value used as a key (keyed by the vault key when there is one)."""
        if self.vault is not None:
            return self.vault.pseudonym(value)
        return hashlib.sha256(value.encode("utf-8")).hexdigest()[:20]

    def pii_values(self, *, tenant: str, conversation_id: str) -> dict[str, str]:
        """The vault of a conversation (for an authorised re-identification, never for a model)."""
        with self.read_session() as s:
            rows = s.execute(
                select(PiiVaultRow.placeholder, PiiVaultRow.value)
                .join(ConversationRow, PiiVaultRow.conversation_pk == ConversationRow.pk)
                .where(ConversationRow.tenant == tenant, ConversationRow.external_id == conversation_id)
            )
            return {p: self.vault.decrypt(v) if self.vault else v for p, v in rows}

    # ── evaluations ───────────────────────────────────────────────────────────────────────────────

    def find_evaluation(
        self, *, tenant: str, conversation_id: str, content_hash: str, rule_pack: str, verdict_version: str
    ) -> Evaluation | None:
        """The stored evaluation of this exact conversation content under this verdict version, if any."""
        with self.read_session() as s:
            payload = s.scalar(
                select(EvaluationRow.payload)
                .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
                .where(
                    ConversationRow.tenant == tenant,
                    ConversationRow.external_id == conversation_id,
                    ConversationRow.content_hash == content_hash,
                    EvaluationRow.rule_pack == rule_pack,
                    EvaluationRow.verdict_version == verdict_version,
                )
            )
            return Evaluation.model_validate(payload) if payload else None

    def save_evaluation(self, conversation: Conversation, evaluation: Evaluation) -> Evaluation:
        """Store the evaluation (and the redacted conversation if it was not admitted) in one transaction;
        returns the stored one (an earlier one when this content was already evaluated under this version)."""
        try:
            with self.session() as s:
                pk = self._conversation_pk(s, conversation, evaluation.content_hash)
                existing = s.scalar(
                    select(EvaluationRow.payload).where(
                        EvaluationRow.conversation_pk == pk,
                        EvaluationRow.rule_pack == evaluation.rule_pack,
                        EvaluationRow.verdict_version == evaluation.verdict_version,
                    )
                )
                if existing is not None:
                    return Evaluation.model_validate(existing)
                s.execute(insert(EvaluationRow), [evaluation_row(pk, evaluation)])
                rows = finding_rows(evaluation)
                if rows:
                    s.execute(insert(FindingRow), rows)
            return evaluation
        except IntegrityError:
            # Another worker stored the same evaluation first: theirs is the one.
            stored = self.find_evaluation(
                tenant=evaluation.tenant,
                conversation_id=evaluation.conversation_id,
                content_hash=evaluation.content_hash,
                rule_pack=evaluation.rule_pack,
                verdict_version=evaluation.verdict_version,
            )
            if stored is None:
                raise StoreError(f"could not store evaluation of {evaluation.conversation_id}") from None
            return stored

    def evaluations(self, *, tenant: str, conversation_id: str | None = None) -> list[Evaluation]:
        """Stored evaluations of a tenant, newest first (optionally of one conversation)."""
        with self.read_session() as s:
            query = select(EvaluationRow.payload).where(EvaluationRow.tenant == tenant)
            if conversation_id is not None:
                query = query.where(EvaluationRow.conversation_id == conversation_id)
            rows = s.scalars(query.order_by(EvaluationRow.created_at.desc()))
            return [Evaluation.model_validate(r) for r in rows]

    # ── tickets ───────────────────────────────────────────────────────────────────────────────────

    def save_ticket(self, ticket: Ticket) -> Ticket:
        """Store a ticket once per evaluation; a repeat returns the ticket already stored."""
        try:
            with self.session() as s:
                existing = s.scalar(select(TicketRow.payload).where(TicketRow.evaluation_id == ticket.evaluation_id))
                if existing is not None:
                    return Ticket.model_validate(existing)
                s.add(TicketRow(**ticket_row(ticket)))
            return ticket
        except IntegrityError:
            stored = self.ticket_for_evaluation(ticket.evaluation_id)
            if stored is None:
                raise StoreError(f"could not store ticket for evaluation {ticket.evaluation_id}") from None
            return stored

    def ticket_for_evaluation(self, evaluation_id: str) -> Ticket | None:
        with self.read_session() as s:
            payload = s.scalar(select(TicketRow.payload).where(TicketRow.evaluation_id == evaluation_id))
            return Ticket.model_validate(payload) if payload else None

    def tickets(self, *, tenant: str, status: TicketStatus | None = None) -> list[Ticket]:
        with self.read_session() as s:
            query = select(TicketRow.payload).where(TicketRow.tenant == tenant)
            if status is not None:
                query = query.where(TicketRow.status == status.value)
            return [Ticket.model_validate(r) for r in s.scalars(query.order_by(TicketRow.due_at))]

    # ── the LLM verdict cache ─────────────────────────────────────────────────────────────────────

    def get_llm_verdict(self, key: str) -> dict[str, Any] | None:
        with self.read_session() as s:
            row = s.get(LlmVerdictRow, key)
            return dict(row.verdict) if row else None

    def save_llm_verdict(self, key: str, verdict: dict[str, Any], *, model: str, prompt_version: str) -> None:
        try:
            with self.session() as s:
                if s.get(LlmVerdictRow, key) is None:
                    s.add(LlmVerdictRow(key=key, model=model, prompt_version=prompt_version, verdict=verdict))
        except IntegrityError:
            pass  # another worker cached the same verdict first

    # ── erasure and retention (个人信息保护法 第47条) ─────────────────────────────────────────────────

    def delete_conversation(self, *, tenant: str, conversation_id: str) -> int:
        """Erase every stored version of a conversation with its vault, evaluations, findings and tickets.
        Returns how many conversation versions were erased."""
        with self.session() as s:
            pks = list(
                s.scalars(
                    select(ConversationRow.pk).where(
                        ConversationRow.tenant == tenant, ConversationRow.external_id == conversation_id
                    )
                )
            )
            _erase(s, pks)
            return len(pks)

    def purge_older_than(self, days: int, *, now: datetime | None = None) -> int:
        """Erase conversations received more than `days` days ago (the retention setting). Returns how many."""
        cutoff = (now or utc_now()) - timedelta(days=days)
        with self.session() as s:
            pks = list(s.scalars(select(ConversationRow.pk).where(ConversationRow.created_at < cutoff)))
            _erase(s, pks)
            return len(pks)


def _register_tables() -> None:
    """The table modules built on the store (accounts, coaching, jobs, scorecards) register their tables with the
    declarative base when imported; they import this module, so they are imported here, when a store opens."""
    import core.accounts
    import core.coaching
    import core.jobs
    import core.scorecards  # noqa: F401


def _check_schema(engine: Engine) -> None:
    """A database made by an older version lacks columns this one writes: say so instead of failing mid-batch."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            raise StoreError(
                f"the database {engine.url.render_as_string(hide_password=True)} was made by an older version of "
                f"Zhijian (table {table.name} lacks {', '.join(missing)}); there are no migrations yet: move it "
                "aside (or use another --data-dir / --db) and re-evaluate"
            )


def _erase(s: Session, pks: list[int]) -> None:
    if not pks:
        return
    evaluation_ids = select(EvaluationRow.id).where(EvaluationRow.conversation_pk.in_(pks))
    s.execute(delete(TicketRow).where(TicketRow.evaluation_id.in_(evaluation_ids)))
    s.execute(delete(FindingRow).where(FindingRow.evaluation_id.in_(evaluation_ids)))
    s.execute(delete(EvaluationRow).where(EvaluationRow.conversation_pk.in_(pks)))
    s.execute(delete(PiiVaultRow).where(PiiVaultRow.conversation_pk.in_(pks)))
    s.execute(delete(ConversationRow).where(ConversationRow.pk.in_(pks)))


def conversation_row(conversation: Conversation, content_hash: str) -> dict[str, Any]:
    """The columns of a received (redacted) conversation."""
    return {
        "tenant": conversation.tenant,
        "external_id": conversation.id,
        "content_hash": content_hash,
        "channel": conversation.channel.value,
        "scenario": conversation.scenario,
        "head_office": conversation.head_office,
        "branch": conversation.branch,
        "sub_branch": conversation.sub_branch,
        "team": conversation.team,
        "agent_id": conversation.agent_id,
        "started_at": conversation.started_at,
        "converted": conversation.outcome.converted,
        "csat": conversation.outcome.csat,
        "payload": conversation.model_dump(mode="json", exclude_none=True),
        "created_at": utc_now(),
    }


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    """The columns of a ticket."""
    return {
        "id": ticket.id,
        "evaluation_id": ticket.evaluation_id,
        "tenant": ticket.tenant,
        "agent_id": ticket.agent_id,
        "team": ticket.team,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "due_at": ticket.due_at,
        "payload": ticket.model_dump(mode="json"),
        "created_at": ticket.created_at,
    }


def evaluation_row(conversation_pk: int, evaluation: Evaluation) -> dict[str, Any]:
    """The columns of an evaluation of the conversation stored as `conversation_pk`."""
    return {
        "id": evaluation.id,
        "conversation_pk": conversation_pk,
        "tenant": evaluation.tenant,
        "conversation_id": evaluation.conversation_id,
        "agent_id": evaluation.agent_id,
        "rule_pack": evaluation.rule_pack,
        "rule_pack_version": evaluation.rule_pack_version,
        "verdict_version": evaluation.verdict_version,
        "total": evaluation.total,
        "risk_level": evaluation.risk_level.value,
        "needs_review": evaluation.needs_review,
        "auto_failed": evaluation.auto_failed,
        **{column: evaluation.scores.get(d, 100.0) for d, column in _SCORE_COLUMNS.items()},
        "payload": evaluation.model_dump(mode="json"),
        "created_at": evaluation.created_at,
    }


def finding_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """One row per failure or not-evaluated rule of the evaluation."""
    return [
        {
            "evaluation_id": evaluation.id,
            "rule_id": f.rule_id,
            "code": f.code,
            "dimension": f.dimension.value,
            "verdict": f.verdict.value,
            "severity": f.severity.value,
            "confidence": f.confidence,
            "tier": f.tier.value,
            "deduction": f.deduction,
            "probability": f.probability,
            "suppressed_by": f.suppressed_by,
            "evidence": [{"turn": e.turn, "role": e.role.value, "quote": e.quote} for e in f.evidence],
        }
        for f in evaluation.findings
    ]
