"""POST /evaluate: one conversation in, its evaluation out."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile

from api.deps import ServiceDep, require
from api.schemas import EvaluateRequest, EvaluationResult
from api.service import UnknownScorecard
from core.access import Action, Principal
from core.models import Conversation
from graphs.qm import evaluate_conversation
from tools.asr import AudioError, recording_to_conversation

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


@router.post(
    "/evaluate/recording",
    response_model=EvaluationResult,
    summary="Evaluate a call recording (multipart upload: wav, mp3, m4a, flac, ogg)",
)
def evaluate_recording(
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.EVALUATE))],
    recording: Annotated[UploadFile, File(description="The call recording; stereo: one party per channel.")],
    conversation_id: Annotated[str | None, Form(description="Default: the file name without extension.")] = None,
    branch: Annotated[str | None, Form()] = None,
    sub_branch: Annotated[str | None, Form()] = None,
    team: Annotated[str | None, Form()] = None,
    agent_id: Annotated[str | None, Form()] = None,
    scenario: Annotated[str | None, Form()] = None,
    dry_run: Annotated[bool, Query(description="Evaluate without storing anything.")] = False,
) -> EvaluationResult:
    name = Path(recording.filename or "recording.wav").name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            shutil.copyfileobj(recording.file, out)
        try:
            conversation = recording_to_conversation(
                path,
                service.transcriber(),
                agent_channel=service.settings.asr_agent_channel,
                max_seconds=service.settings.asr_max_seconds,
            )
        except AudioError as exc:
            raise HTTPException(422, str(exc).replace(str(path), name)) from None
    meta = {"branch": branch, "sub_branch": sub_branch, "team": team, "agent_id": agent_id, "scenario": scenario}
    request = EvaluateRequest.model_validate(
        {**conversation.model_dump(), "id": conversation_id or conversation.id, "tenant": None, **meta}
    )
    return evaluate(request, service, principal, dry_run=dry_run)
