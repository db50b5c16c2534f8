"""Practice progress of an agent: session history, pass rate of each trained rule across sessions, and the
same rule's fail rate in the agent's real calls before and after it was first practised.

For the insight agent and reports: `practice_progress(store, principal, agent_id)`; scoped in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from core.access import Principal
from core.coaching import CoachRuleResultRow, CoachSessionRow
from core.store import ConversationRow, EvaluationRow, Store
from tools.coaching.models import AgentProgress, RuleProgress, SessionSummary
from tools.coaching.weakness import conversation_scope, evaluation_verdicts, session_scope


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rate(failed: int, total: int) -> float | None:
    return round(failed / total, 3) if total else None


def practice_progress(store: Store, principal: Principal, agent_id: str) -> AgentProgress:
    """The agent's sessions (oldest first) and, per trained rule, practice and real-call figures."""
    sessions_query = (
        select(CoachSessionRow)
        .where(CoachSessionRow.agent_id == agent_id, *session_scope(principal))
        .order_by(CoachSessionRow.created_at, CoachSessionRow.id)
    )
    results_query = (
        select(CoachRuleResultRow, CoachSessionRow.created_at)
        .join(CoachSessionRow, CoachRuleResultRow.session_id == CoachSessionRow.id)
        .where(CoachSessionRow.agent_id == agent_id, *session_scope(principal))
    )
    calls_query = (
        select(EvaluationRow.payload, ConversationRow.started_at, EvaluationRow.created_at)
        .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
        .where(ConversationRow.agent_id == agent_id, *conversation_scope(principal))
    )
    by_session: dict[str, list[CoachRuleResultRow]] = defaultdict(list)
    by_rule: dict[str, list[tuple[CoachRuleResultRow, datetime]]] = defaultdict(list)
    with store.session() as s:
        sessions = list(s.scalars(sessions_query))
        for result, started in s.execute(results_query):
            by_session[result.session_id].append(result)
            by_rule[result.rule_id].append((result, _aware(started)))
        calls = [(evaluation_verdicts(p), _aware(started or created)) for p, started, created in s.execute(calls_query)]
    summaries = [
        SessionSummary(
            session_id=row.id,
            status=row.status,
            started_at=_aware(row.created_at),
            ended_at=_aware(row.ended_at) if row.ended_at else None,
            target_rules=list(row.target_rules),
            total=row.total,
            passed_rules=sorted(r.rule_id for r in by_session[row.id] if r.passed),
            failed_rules=sorted(r.rule_id for r in by_session[row.id] if not r.passed),
        )
        for row in sessions
    ]
    rules = []
    for rule_id, results in sorted(by_rule.items()):
        first = min(started for _, started in results)
        judged = [(verdicts[rule_id], at) for verdicts, at in calls if verdicts.get(rule_id) in ("pass", "fail")]
        before = [v for v, at in judged if at < first]
        after = [v for v, at in judged if at >= first]
        passed = sum(1 for r, _ in results if r.passed)
        rules.append(
            RuleProgress(
                rule_id=rule_id,
                code=results[0][0].code,
                sessions=len(results),
                passed=passed,
                pass_rate=round(passed / len(results), 3),
                first_practised=first,
                real_calls_before=len(before),
                real_fail_rate_before=_rate(before.count("fail"), len(before)),
                real_calls_after=len(after),
                real_fail_rate_after=_rate(after.count("fail"), len(after)),
            )
        )
    return AgentProgress(tenant=principal.tenant, agent_id=agent_id, sessions=summaries, rules=rules)
