"""Reads filtered by the caller's tenant and org subtree (an agent: their own records only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from core.access import AccessRole, Principal
from core.models import Evaluation, Ticket, TicketComment, TicketStatus
from core.store import ConversationRow, EvaluationRow, Store, TicketRow, utc_now
from core.ticket_workflow import plan_change


def _scope(principal: Principal) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [ConversationRow.tenant == principal.tenant]
    for level, value in principal.scope().items():
        conditions.append(getattr(ConversationRow, level) == value)
    if principal.role is AccessRole.AGENT:
        conditions.append(ConversationRow.agent_id == (principal.agent_id or "\x00no-agent"))
    return conditions


def _page(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    return query.limit(limit).offset(offset)


def list_conversations(store: Store, principal: Principal, *, limit: int, offset: int) -> list[dict[str, Any]]:
    query = select(ConversationRow).where(*_scope(principal)).order_by(ConversationRow.pk.desc())
    with store.session() as s:
        rows = s.scalars(_page(query, limit, offset)).all()
        return [
            {
                "id": r.external_id,
                "tenant": r.tenant,
                "head_office": r.head_office,
                "branch": r.branch,
                "sub_branch": r.sub_branch,
                "team": r.team,
                "agent_id": r.agent_id,
                "channel": r.channel,
                "scenario": r.scenario,
                "content_hash": r.content_hash,
                "created_at": r.created_at,
                "evaluation_ids": list(
                    s.scalars(select(EvaluationRow.id).where(EvaluationRow.conversation_pk == r.pk))
                ),
            }
            for r in rows
        ]


def get_evaluation(store: Store, principal: Principal, evaluation_id: str) -> Evaluation | None:
    query = (
        select(EvaluationRow.payload)
        .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
        .where(EvaluationRow.id == evaluation_id, *_scope(principal))
    )
    with store.session() as s:
        payload = s.scalar(query)
        return Evaluation.model_validate(payload) if payload else None


def _tickets(principal: Principal) -> Select[Any]:
    return (
        select(TicketRow)
        .join(EvaluationRow, TicketRow.evaluation_id == EvaluationRow.id)
        .join(ConversationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
        .where(*_scope(principal))
    )


def list_tickets(
    store: Store, principal: Principal, *, status: TicketStatus | None, limit: int, offset: int
) -> list[Ticket]:
    query = _tickets(principal).order_by(TicketRow.due_at, TicketRow.id)
    if status is not None:
        query = query.where(TicketRow.status == status.value)
    with store.session() as s:
        return [Ticket.model_validate(r.payload) for r in s.scalars(_page(query, limit, offset))]


def update_ticket(
    store: Store, principal: Principal, ticket_id: str, *, status: TicketStatus | None, comment: str | None
) -> Ticket | None:
    """Change status and/or add a comment; None when the ticket is not within the caller's reach.

    The change must be a move of the ticket workflow that the caller's role may make (`TicketMoveError` else)."""
    with store.session() as s:
        row = s.scalar(_tickets(principal).where(TicketRow.id == ticket_id))
        if row is None:
            return None
        ticket = Ticket.model_validate(row.payload)
        plan_change(ticket.status, status, principal.role, comment=comment)
        if status is not None:
            ticket.status = status
        if comment:
            ticket.comments.append(TicketComment(author=principal.subject, text=comment, at=utc_now()))
        row.status = ticket.status.value
        row.payload = ticket.model_dump(mode="json")
        return ticket
