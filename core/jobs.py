"""A durable job queue in the operational database: a batch of conversations, one row per item.

Items hold the redacted conversation and the content hash of the conversation as received (its vault
was stored at intake, never here). A worker claims items atomically; items left `running` by a crash
are re-queued at start-up until they have been tried `max_attempts` times, then dead-lettered (failed,
with the reason), so one poison item can never block the queue. Evaluating an item twice yields the
same stored evaluation (tenant + id + content hash + rule-pack version), so a re-run after a crash
neither loses nor double-counts a conversation. A cancelled job's queued items are never claimed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utc_now
from core.models import Conversation
from core.store import EvaluationRow, Store


class ItemStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # dead letter: failed or interrupted too often; `error` says why
    CANCELLED = "cancelled"


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    scorecard: Mapped[str | None] = mapped_column(String(100))  # a stored pack's name; None: the configured one
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class JobItemRow(Base):
    __tablename__ = "job_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the redacted conversation
    content_hash: Mapped[str] = mapped_column(String(64))  # of the conversation as received
    evaluation_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(2000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


def create_job(
    store: Store,
    *,
    tenant: str,
    subject: str,
    items: list[tuple[Conversation, str]],
    scorecard: str | None = None,
) -> str:
    """Queue received (redacted) conversations with their content hashes as one job; returns the job id."""
    job_id = f"job_{uuid.uuid4().hex[:20]}"
    with store.session() as s:
        s.add(JobRow(id=job_id, tenant=tenant, subject=subject, total=len(items), scorecard=scorecard))
        s.flush()
        s.add_all(
            JobItemRow(
                job_id=job_id,
                seq=seq,
                conversation_id=conversation.id,
                status=ItemStatus.QUEUED.value,
                payload=conversation.model_dump(mode="json", exclude_none=True),
                content_hash=content_hash,
            )
            for seq, (conversation, content_hash) in enumerate(items)
        )
    return job_id


def requeue_interrupted(store: Store, *, max_attempts: int) -> tuple[int, int]:
    """At start-up: items a crash left running go back to the queue, unless they were already tried
    `max_attempts` times (then they are dead-lettered). Returns (re-queued, dead-lettered)."""
    running = JobItemRow.status == ItemStatus.RUNNING.value
    with store.session() as s:
        dead = s.execute(
            update(JobItemRow)
            .where(running, JobItemRow.attempts >= max_attempts)
            .values(
                status=ItemStatus.FAILED.value,
                payload=None,
                error=f"dead letter: the process stopped while evaluating this item {max_attempts} times",
            )
        )
        queued = s.execute(update(JobItemRow).where(running).values(status=ItemStatus.QUEUED.value))
        return int(queued.rowcount or 0), int(dead.rowcount or 0)  # type: ignore[attr-defined]


def cancel_job(store: Store, job_id: str) -> int:
    """Cancel the job's items that have not started; returns how many. Running items finish."""
    with store.session() as s:
        result = s.execute(
            update(JobItemRow)
            .where(JobItemRow.job_id == job_id, JobItemRow.status == ItemStatus.QUEUED.value)
            .values(status=ItemStatus.CANCELLED.value, payload=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


Claimed = tuple[int, Conversation, str, str | None]


def claim_next(store: Store) -> Claimed | None:
    """Atomically take the oldest queued item (compare-and-set on its status). An empty queue is seen in a read-only
    snapshot: idle workers poll it several times a second, and a write transaction would take SQLite's write lock
    each time, making every evaluation's commit wait behind the polls."""
    while True:
        with store.read_session() as s:
            if s.scalar(select(JobItemRow.id).where(JobItemRow.status == ItemStatus.QUEUED.value).limit(1)) is None:
                return None
        with store.session() as s:
            row = s.scalar(
                select(JobItemRow).where(JobItemRow.status == ItemStatus.QUEUED.value).order_by(JobItemRow.id).limit(1)
            )
            if row is None:
                return None
            taken = s.execute(
                update(JobItemRow)
                .where(JobItemRow.id == row.id, JobItemRow.status == ItemStatus.QUEUED.value)
                .values(status=ItemStatus.RUNNING.value, attempts=JobItemRow.attempts + 1)
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                continue  # another worker took it first
            try:
                conversation = Conversation.model_validate(row.payload)
            except ValueError as exc:  # a corrupt item is failed with its reason, not retried forever
                row_id, error = row.id, f"unreadable queued item: {exc}"
            else:
                scorecard = s.scalar(select(JobRow.scorecard).where(JobRow.id == row.job_id))
                return row.id, conversation, row.content_hash, scorecard
        fail_item(store, row_id, error)


def finish_item(store: Store, item_id: int, evaluation_id: str) -> None:
    with store.session() as s:
        s.execute(
            update(JobItemRow)
            .where(JobItemRow.id == item_id)
            .values(status=ItemStatus.DONE.value, evaluation_id=evaluation_id, payload=None, error=None)
        )


def fail_item(store: Store, item_id: int, error: str, *, max_attempts: int = 1) -> None:
    """An attempt failed: back to the queue while attempts remain, else dead-lettered with the reason."""
    with store.session() as s:
        attempts = s.scalar(select(JobItemRow.attempts).where(JobItemRow.id == item_id)) or 0
        final = attempts >= max_attempts
        s.execute(
            update(JobItemRow)
            .where(JobItemRow.id == item_id)
            .values(
                status=ItemStatus.FAILED.value if final else ItemStatus.QUEUED.value,
                error=(f"dead letter after {attempts} attempts: " if final else "") + error[:1900],
                **({"payload": None} if final else {}),
            )
        )


def job_row(store: Store, job_id: str) -> JobRow | None:
    with store.session() as s:
        return s.get(JobRow, job_id)


def job_progress(store: Store, job_id: str, *, limit: int, offset: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Counts by status, and a page of items (seq, conversation id, status, evaluation id, error)."""
    with store.session() as s:
        counts = dict(
            s.execute(
                select(JobItemRow.status, func.count()).where(JobItemRow.job_id == job_id).group_by(JobItemRow.status)
            ).all()
        )
        rows = s.execute(
            select(
                JobItemRow.seq,
                JobItemRow.conversation_id,
                JobItemRow.status,
                JobItemRow.evaluation_id,
                JobItemRow.error,
            )
            .where(JobItemRow.job_id == job_id)
            .order_by(JobItemRow.seq)
            .limit(limit)
            .offset(offset)
        ).all()
    items = [{"seq": r[0], "conversation_id": r[1], "status": r[2], "evaluation_id": r[3], "error": r[4]} for r in rows]
    return {status.value: int(counts.get(status.value, 0)) for status in ItemStatus}, items


def job_results(store: Store, job_id: str) -> Iterator[dict[str, Any]]:
    """Stored evaluations of a job's finished items, in item order (read in pages)."""
    last = -1
    while True:
        with store.session() as s:
            rows = s.execute(
                select(JobItemRow.seq, EvaluationRow.payload)
                .join(EvaluationRow, EvaluationRow.id == JobItemRow.evaluation_id)
                .where(JobItemRow.job_id == job_id, JobItemRow.seq > last)
                .order_by(JobItemRow.seq)
                .limit(200)
            ).all()
        if not rows:
            return
        for seq, payload in rows:
            last = seq
            yield dict(payload)
