"""POST /evaluate: one conversation in, its evaluation out."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile

from agents.qm.intake import recording_hash
from api.batch import evaluation_json
from api.deps import ServiceDep, require
from api.limits import safe_upload_name
from api.schemas import EvaluateRequest, EvaluationResult
from api.service import Service, UnknownScorecard
from core.access import Action, Principal
from core.models import Conversation, Evaluation, Ticket

router = APIRouter(tags=["evaluate"])


def result_response(evaluation: Evaluation, tickets: list[Ticket]) -> Response:
    """The evaluation and its tickets as `EvaluationResult` JSON, serialised once (the same line as
    `zhijian evaluate --format json`), not rebuilt and validated again as a response model."""
    return Response(evaluation_json(evaluation, tickets), media_type="application/json")


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
) -> Response:
    conversation = admit(principal, request, service.settings.max_turns)
    return _evaluate(service, principal, conversation, scorecard=scorecard, dry_run=dry_run)


def _evaluate(
    service: Service,
    principal: Principal,
    conversation: Conversation,
    *,
    scorecard: str | None,
    dry_run: bool,
    content_hash: str | None = None,
) -> Response:
    try:
        result = service.evaluate(principal.tenant, scorecard, conversation, dry_run=dry_run, content_hash=content_hash)
    except UnknownScorecard as exc:
        raise HTTPException(404, str(exc)) from None
    return result_response(result["evaluation"], result.get("tickets", []))


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
) -> Response:
    name = safe_upload_name(recording.filename)
    meta = {"branch": branch, "sub_branch": sub_branch, "team": team, "agent_id": agent_id, "scenario": scenario}
    audio = recording.file.read(service.settings.max_request_bytes + 1)
    if len(audio) > service.settings.max_request_bytes:
        raise HTTPException(413, f"recording over {service.settings.max_request_bytes} bytes")
    conversation_key = conversation_id or Path(name).stem or "recording"
    fingerprint = recording_hash(audio, {"id": conversation_key, "tenant": principal.tenant, **meta})
    if not dry_run:  # the same recording again: the stored evaluation, without transcribing it twice
        stored = service.store.find_evaluation(
            tenant=principal.tenant,
            conversation_id=conversation_key,
            content_hash=fingerprint,
            rule_pack=service.context.scorecard.name,
            verdict_version=service.context.verdict_version,
        )
        if stored is not None:
            ticket = service.store.ticket_for_evaluation(stored.id)
            return result_response(stored, [ticket] if ticket else [])
    from tools.asr import AudioError, recording_to_conversation  # loads the ASR stack only when a recording comes

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(audio)
        try:
            conversation = recording_to_conversation(
                path,
                service.transcriber(),
                agent_channel=service.settings.asr_agent_channel,
                max_seconds=service.settings.asr_max_seconds,
            )
        except AudioError as exc:
            raise HTTPException(422, str(exc).replace(str(path), name).replace(folder, "")) from None
    request = EvaluateRequest.model_validate(
        {**conversation.model_dump(), "id": conversation_key, "tenant": None, **meta}
    )
    admitted = admit(principal, request, service.settings.max_turns).model_copy(
        update={
            "notes": conversation.notes,
            "voice": conversation.voice,
            "transcript_quality": conversation.transcript_quality,
        }
    )
    return _evaluate(service, principal, admitted, scorecard=None, dry_run=dry_run, content_hash=fingerprint)
