"""Reads of stored results, always within the caller's tenant and subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import ServiceDep, require
from api.limits import known_query_only
from api.schemas import ConversationSummary, TicketUpdate
from core.access import Action, Principal
from core.models import Evaluation, Ticket, TicketStatus
from core.queries import get_evaluation, list_conversations, list_tickets, update_ticket
from core.ticket_workflow import MoveForbidden, NotAMove, NoteRequired

router = APIRouter(tags=["records"], dependencies=[Depends(known_query_only)])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


@router.get("/conversations", response_model=list[ConversationSummary], summary="Conversations in reach")
def conversations(
    service: ServiceDep, principal: Reader, limit: Limit = 50, offset: Offset = 0
) -> list[ConversationSummary]:
    rows = list_conversations(service.store, principal, limit=limit, offset=offset)
    return [ConversationSummary(**{k: v for k, v in r.items() if k != "created_at"}) for r in rows]


@router.get("/evaluations/{evaluation_id}", response_model=Evaluation, summary="One evaluation")
def evaluation(evaluation_id: str, service: ServiceDep, principal: Reader) -> Evaluation:
    found = get_evaluation(service.store, principal, evaluation_id)
    if found is None:
        raise HTTPException(404, f"no evaluation {evaluation_id}")
    return found


@router.get("/tickets", response_model=list[Ticket], summary="Remediation tickets in reach")
def tickets(
    service: ServiceDep, principal: Reader, status: TicketStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> list[Ticket]:
    return list_tickets(service.store, principal, status=status, limit=limit, offset=offset)


@router.patch(
    "/tickets/{ticket_id}", response_model=Ticket, summary="Move a ticket through its workflow or comment on it"
)
def patch_ticket(
    ticket_id: str,
    change: TicketUpdate,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.UPDATE_TICKET))],
) -> Ticket:
    if change.status is None and change.comment is None:
        raise HTTPException(422, "give a status, a comment, or both")
    try:
        updated = update_ticket(service.store, principal, ticket_id, status=change.status, comment=change.comment)
    except MoveForbidden as exc:
        raise HTTPException(403, str(exc)) from None
    except NotAMove as exc:
        raise HTTPException(409, str(exc)) from None
    except NoteRequired as exc:
        raise HTTPException(422, str(exc)) from None
    if updated is None:
        raise HTTPException(404, f"no ticket {ticket_id}")
    return updated
