"""Where an agent sits and which rules they fail in real calls, read in SQL within the caller's scope."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from core.access import AccessRole, Principal
from core.coaching import CoachSessionRow
from core.scorecard import Scorecard
from core.store import ConversationRow, EvaluationRow, Store
from tools.coaching.models import AgentOrg, RuleWeakness, WeaknessProfile

_NO_AGENT = "\x00no-agent"
RECENT_EVALUATIONS = 300  # a profile reflects the agent's recent work, and stays cheap to read


def conversation_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """SQL conditions limiting conversations to the caller's tenant, org subtree (and own calls for an agent)."""
    conditions: list[ColumnElement[bool]] = [ConversationRow.tenant == principal.tenant]
    for level, value in principal.scope().items():
        conditions.append(getattr(ConversationRow, level) == value)
    if principal.role is AccessRole.AGENT:
        conditions.append(ConversationRow.agent_id == (principal.agent_id or _NO_AGENT))
    return conditions


def session_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """The same limits on practice sessions (an agent sees only their own)."""
    conditions: list[ColumnElement[bool]] = [CoachSessionRow.tenant == principal.tenant]
    for level, value in principal.scope().items():
        conditions.append(getattr(CoachSessionRow, level) == value)
    if principal.role is AccessRole.AGENT:
        conditions.append(CoachSessionRow.agent_id == (principal.agent_id or _NO_AGENT))
    return conditions


def agent_org(store: Store, principal: Principal, agent_id: str) -> AgentOrg | None:
    """The agent's org path from their latest conversation within the caller's scope (None: none visible)."""
    query = (
        select(ConversationRow)
        .where(ConversationRow.agent_id == agent_id, *conversation_scope(principal))
        .order_by(ConversationRow.pk.desc())
        .limit(1)
    )
    with store.session() as s:
        row = s.scalar(query)
        if row is None:
            return None
        return AgentOrg(
            tenant=row.tenant,
            agent_id=agent_id,
            head_office=row.head_office,
            branch=row.branch,
            sub_branch=row.sub_branch,
            team=row.team,
        )


def evaluation_verdicts(payload: dict[str, Any]) -> dict[str, str]:
    """Rule id → verdict of a stored evaluation (compact `verdicts`, else the full findings list)."""
    verdicts = payload.get("verdicts") or {}
    if verdicts:
        return {str(k): str(v) for k, v in verdicts.items()}
    return {str(f["rule_id"]): str(f["verdict"]) for f in payload.get("findings", [])}


def weakness_profile(store: Store, principal: Principal, agent: AgentOrg, scorecard: Scorecard) -> WeaknessProfile:
    """Rules of the scorecard the agent failed in their recent evaluated calls, by failures then fail rate."""
    query = (
        select(EvaluationRow.payload, ConversationRow.scenario)
        .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
        .where(
            ConversationRow.agent_id == agent.agent_id,
            EvaluationRow.rule_pack == scorecard.name,
            *conversation_scope(principal),
        )
        .order_by(EvaluationRow.created_at.desc())
        .limit(RECENT_EVALUATIONS)
    )
    failed: Counter[str] = Counter()
    applicable: Counter[str] = Counter()
    scenarios: Counter[str] = Counter()
    evaluations = 0
    with store.session() as s:
        for payload, scenario in s.execute(query):
            evaluations += 1
            if scenario:
                scenarios[scenario] += 1
            for rule_id, verdict in evaluation_verdicts(payload).items():
                if verdict in ("pass", "fail"):
                    applicable[rule_id] += 1
                if verdict == "fail":
                    failed[rule_id] += 1
    known = {r.id: r for r in scorecard.rules}
    weaknesses = [
        RuleWeakness(
            rule_id=rule_id,
            code=known[rule_id].code,
            rule_name=known[rule_id].name,
            failed=count,
            applicable=applicable[rule_id],
            fail_rate=round(count / applicable[rule_id], 3),
        )
        for rule_id, count in failed.items()
        if rule_id in known and applicable[rule_id]
    ]
    weaknesses.sort(key=lambda w: (-w.failed, -w.fail_rate, w.rule_id))
    return WeaknessProfile(agent=agent, evaluations=evaluations, weaknesses=weaknesses, scenarios=dict(scenarios))
