"""Rule packs as data per tenant: every upload is a new version; evaluations record the version they used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utc_now
from core.scorecard import Scorecard
from core.store import Store


class ScorecardRow(Base):
    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("tenant", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text)  # the YAML as uploaded
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


def save_scorecard(store: Store, *, tenant: str, card: Scorecard, source: str, created_by: str) -> bool:
    """Store a validated pack; False when this exact version is already stored (nothing changes)."""
    with store.session() as s:
        exists = s.scalar(
            select(ScorecardRow.id).where(
                ScorecardRow.tenant == tenant, ScorecardRow.name == card.name, ScorecardRow.version == card.version
            )
        )
        if exists is not None:
            return False
        s.add(ScorecardRow(tenant=tenant, name=card.name, version=card.version, source=source, created_by=created_by))
        return True


def latest_source(store: Store, *, tenant: str, name: str) -> str | None:
    with store.session() as s:
        return s.scalar(
            select(ScorecardRow.source)
            .where(ScorecardRow.tenant == tenant, ScorecardRow.name == name)
            .order_by(ScorecardRow.id.desc())
            .limit(1)
        )


def list_versions(store: Store, *, tenant: str) -> list[tuple[str, str, str, datetime]]:
    """(name, version, created_by, created_at) of every stored pack of a tenant, newest first."""
    with store.session() as s:
        rows = s.execute(
            select(ScorecardRow.name, ScorecardRow.version, ScorecardRow.created_by, ScorecardRow.created_at)
            .where(ScorecardRow.tenant == tenant)
            .order_by(ScorecardRow.id.desc())
        ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]
