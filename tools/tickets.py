"""Remediation tickets: when an evaluation deserves one, and what it says."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.models import Conversation, Evaluation, RiskLevel, Severity, Ticket, TicketFinding
from core.scorecard import Thresholds

_RISK_ORDER = list(RiskLevel)
_TICKET_NAMESPACE = uuid.UUID("6f1c1d2e-8a53-4c1b-9d8e-2b7f7a1c0e11")


@dataclass(frozen=True)
class TicketPolicy:
    """When to open a ticket (from the scorecard) and how long it may stay open (from settings)."""

    thresholds: Thresholds
    due_days: dict[Severity, int] = field(
        default_factory=lambda: {Severity.CRITICAL: 1, Severity.HIGH: 3, Severity.MEDIUM: 7, Severity.LOW: 14}
    )

    def warrants_ticket(self, evaluation: Evaluation) -> bool:
        at_risk = _RISK_ORDER.index(evaluation.risk_level) >= _RISK_ORDER.index(
            RiskLevel(self.thresholds.ticket_at_risk)
        )
        return bool(evaluation.failed) and (
            evaluation.auto_failed or at_risk or evaluation.total < self.thresholds.ticket_below_total
        )


def draft_ticket(
    evaluation: Evaluation, conversation: Conversation, policy: TicketPolicy, now: datetime
) -> Ticket | None:
    """A ticket for the agent and their supervisor listing the failed findings, or None when none is due.

    The id derives from the evaluation id, so drafting twice yields the same ticket (idempotent)."""
    if not policy.warrants_ticket(evaluation):
        return None
    failed = sorted(evaluation.failed, key=lambda f: f.severity.rank, reverse=True)
    priority = failed[0].severity
    codes = "、".join(dict.fromkeys(f.code for f in failed))
    who = conversation.agent_id or "未知坐席"
    return Ticket(
        id=f"T-{uuid.uuid5(_TICKET_NAMESPACE, evaluation.id).hex[:16]}",
        evaluation_id=evaluation.id,
        conversation_id=conversation.id,
        tenant=conversation.tenant,
        agent_id=conversation.agent_id,
        team=conversation.team,
        priority=priority,
        title=f"[{priority.value}] {who} 会话 {conversation.id} 质检整改：{codes}（得分 {evaluation.total:g}）",
        findings=[
            TicketFinding(
                rule_id=f.rule_id,
                code=f.code,
                rule_name=f.rule_name,
                severity=f.severity,
                evidence=f.evidence,
            )
            for f in failed
        ],
        due_at=now + timedelta(days=policy.due_days[priority]),
        created_at=now,
    )
