"""POST /evaluate: one conversation in, its evaluation out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import ServiceDep, require
from api.schemas import EvaluateRequest, EvaluationResult
from api.service import UnknownScorecard
from core.access import Action, Principal
from core.models import Conversation
from graphs.qm import evaluate_conversation

router = APIRouter(tags=["evaluate"])


def admit(principal: Principal, request: EvaluateRequest, max_turns: int) -> Conversation:
    """The conversation under the caller's tenant, refused when outside the caller's subtree or too long."""
    if request.tenant is not None and request.tenant != principal.tenant:
        raise HTTPException(403, f"tenant {request.tenant!r} is not the caller's tenant")
    conversation = Conversation.model_validate({**request.model_dump(), "tenant": principal.tenant})
    org = {level: getattr(conversation, level) for level in ("head_office", "branch", "sub_branch", "team")}
    if not principal.sees(tenant=conversation.tenant, agent_id=conversation.agent_id, **org):
        raise HTTPException(403, "the conversation's organisation is outside the caller's scope")
    if len(conversation.turns) > max_turns:
        raise HTTPException(413, f"{len(conversation.turns)} turns, over the limit of {max_turns}")
    return conversation


@router.post("/evaluate", response_model=EvaluationResult, summary="Evaluate one conversation")
def evaluate(
    request: EvaluateRequest,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.EVALUATE))],
    dry_run: Annotated[bool, Query(description="Evaluate without storing anything.")] = False,
    scorecard: Annotated[
        str | None, Query(description="A stored scorecard's name (default: the configured pack).")
    ] = None,
) -> EvaluationResult:
    conversation = admit(principal, request, service.settings.max_turns)
    try:
        context = service.context_for(principal.tenant, scorecard, dry_run=dry_run)
    except UnknownScorecard as exc:
        raise HTTPException(404, str(exc)) from None
    output = evaluate_conversation(service.dry_graph if dry_run else service.graph, context, conversation)
    return EvaluationResult(**output["evaluation"].model_dump(), tickets=output.get("tickets", []))
