"""The SQL every insight query starts from: latest evaluation per call, inside the caller's scope.

The caller's tenant and org subtree (an agent: their own calls) are always applied in SQL; a `Slice`
narrows further and can never widen it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from core.access import AccessRole, Principal
from core.store import ConversationRow, EvaluationRow
from tools.insight.models import GroupLevel, Slice

GROUP_COLUMNS: dict[GroupLevel, Any] = {
    "agent": ConversationRow.agent_id,
    "team": ConversationRow.team,
    "branch": ConversationRow.branch,
    "sub_branch": ConversationRow.sub_branch,
    "scenario": ConversationRow.scenario,
}


def scope_conditions(principal: Principal) -> list[ColumnElement[bool]]:
    """Tenant, org subtree and (for agents) own-calls-only conditions on `conversations`."""
    conditions: list[ColumnElement[bool]] = [ConversationRow.tenant == principal.tenant]
    for level, value in principal.scope().items():
        conditions.append(getattr(ConversationRow, level) == value)
    if principal.role is AccessRole.AGENT:
        conditions.append(ConversationRow.agent_id == (principal.agent_id or "\x00no-agent"))
    return conditions


def slice_conditions(part: Slice | None) -> list[ColumnElement[bool]]:
    """Conditions narrowing to a slice (agent, team, branch, sub-branch, scenario)."""
    if part is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    for level, value in part.model_dump(exclude={"exclude_agent"}).items():
        if value is not None:
            column = getattr(ConversationRow, level)
            conditions.append(column == value)
    if part.exclude_agent is not None:
        conditions.append(or_(ConversationRow.agent_id != part.exclude_agent, ConversationRow.agent_id.is_(None)))
    return conditions


def latest_evaluations() -> Any:
    """Subquery: the newest evaluation time per conversation, so a re-evaluation under a new pack is not
    counted twice."""
    return (
        select(EvaluationRow.conversation_pk.label("pk"), func.max(EvaluationRow.created_at).label("at"))
        .group_by(EvaluationRow.conversation_pk)
        .subquery("latest")
    )


def evaluated(principal: Principal, part: Slice | None, *columns: Any) -> Select[Any]:
    """SELECT columns FROM the latest evaluation of each call in scope (and slice), joined to its call."""
    latest = latest_evaluations()
    return (
        select(*columns)
        .select_from(EvaluationRow)
        .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
        .join(latest, (latest.c.pk == EvaluationRow.conversation_pk) & (latest.c.at == EvaluationRow.created_at))
        .where(*scope_conditions(principal), *slice_conditions(part))
    )


def week_of(engine: Engine, column: Any) -> Any:
    """The Monday starting a timestamp's week ('2026-10-05'), computed in SQL on SQLite and PostgreSQL alike."""
    if engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("week", column), "YYYY-MM-DD")
    return func.date(column, "weekday 0", "-6 days")


def rate(part: int, whole: int) -> float | None:
    """part/whole rounded to 3 places, None for an empty whole."""
    return round(part / whole, 3) if whole else None


def mean(value: Any) -> float | None:
    """A SQL average rounded to 1 place (None stays None)."""
    return None if value is None else round(float(value), 1)
