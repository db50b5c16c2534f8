"""Stored practice sessions: opened once, results recorded once (the session id is the idempotency key),
read back only within the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.access import Principal
from core.coaching import CoachRuleResultRow, CoachSessionRow
from core.models import Dimension
from core.store import Store, utc_now
from tools.coaching.models import AgentOrg
from tools.coaching.weakness import session_scope


@dataclass(frozen=True)
class SessionRecord:
    """What the store knows of a session (its live state is in the graph's checkpoints)."""

    id: str
    tenant: str
    agent_id: str
    status: str
    started_by: str
    target_rules: list[str]
    debrief: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class RuleOutcome:
    rule_id: str
    code: str
    verdict: str

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def open_session(
    store: Store,
    *,
    session_id: str,
    agent: AgentOrg,
    started_by: str,
    scenario: dict[str, Any],
    target_rules: list[str],
) -> None:
    """Register a session (a repeat with the same id changes nothing)."""
    try:
        with store.session() as s:
            if s.get(CoachSessionRow, session_id) is not None:
                return
            s.add(
                CoachSessionRow(
                    id=session_id,
                    tenant=agent.tenant,
                    agent_id=agent.agent_id,
                    started_by=started_by,
                    status="active",
                    scenario=scenario,
                    target_rules=target_rules,
                    **agent.path(),
                )
            )
    except IntegrityError:
        pass  # registered by a concurrent run of the same node


def record_results(
    store: Store,
    session_id: str,
    *,
    scores: dict[Dimension, float],
    total: float,
    outcomes: list[RuleOutcome],
    debrief: dict[str, Any],
) -> bool:
    """Store a session's results once; False when they were already stored."""
    try:
        with store.session() as s:
            row = s.get(CoachSessionRow, session_id)
            if row is None:
                raise LookupError(f"no practice session {session_id!r}")
            if row.status == "ended":
                return False
            row.status = "ended"
            row.ended_at = utc_now()
            row.total = total
            for dimension, value in scores.items():
                setattr(row, dimension.value, value)
            row.debrief = debrief
            s.add_all(
                CoachRuleResultRow(
                    session_id=session_id,
                    tenant=row.tenant,
                    agent_id=row.agent_id,
                    rule_id=o.rule_id,
                    code=o.code,
                    verdict=o.verdict,
                    passed=o.passed,
                )
                for o in outcomes
            )
        return True
    except IntegrityError:
        return False


def _record(row: CoachSessionRow) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        tenant=row.tenant,
        agent_id=row.agent_id,
        status=row.status,
        started_by=row.started_by,
        target_rules=list(row.target_rules),
        debrief=row.debrief,
        created_at=row.created_at,
    )


def find_session(store: Store, principal: Principal, session_id: str) -> SessionRecord | None:
    """The session if it is within the caller's reach (an agent: only their own), else None."""
    with store.session() as s:
        row = s.scalar(select(CoachSessionRow).where(CoachSessionRow.id == session_id, *session_scope(principal)))
        return _record(row) if row is not None else None


def session_for_operator(store: Store, session_id: str) -> SessionRecord | None:
    """A session by id for a local operator of the CLI, who has the whole database in hand anyway."""
    with store.session() as s:
        row = s.get(CoachSessionRow, session_id)
        return _record(row) if row is not None else None


def previous_outcomes(
    store: Store, *, tenant: str, agent_id: str, before: str
) -> tuple[float | None, list[RuleOutcome]]:
    """Total and rule outcomes of the agent's last ended session other than `before` (None, [] when none)."""
    with store.session() as s:
        last = s.scalar(
            select(CoachSessionRow)
            .where(
                CoachSessionRow.tenant == tenant,
                CoachSessionRow.agent_id == agent_id,
                CoachSessionRow.status == "ended",
                CoachSessionRow.id != before,
            )
            .order_by(CoachSessionRow.ended_at.desc())
            .limit(1)
        )
        if last is None:
            return None, []
        results = s.scalars(select(CoachRuleResultRow).where(CoachRuleResultRow.session_id == last.id))
        return last.total, [RuleOutcome(r.rule_id, r.code, r.verdict) for r in results]
