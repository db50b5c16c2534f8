"""Batch jobs: POST /jobs (JSONL), GET /jobs/{id}, GET /jobs/{id}/results (NDJSON stream)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from agents.qm.intake import receive
from api.deps import ServiceDep, require
from api.routes.evaluate import admit
from api.schemas import EvaluateRequest, JobCreated, JobItem, JobStatus, RejectedLine
from api.service import Service, UnknownScorecard
from core.access import AccessRole, Action, Principal
from core.errors import InputError
from core.jobs import cancel_job, create_job, job_progress, job_results, job_row
from core.models import Conversation
from tools.transcripts import decode_bytes

router = APIRouter(tags=["jobs"])


def _visible_job(service: ServiceDep, principal: Principal, job_id: str) -> int:
    row = job_row(service.store, job_id)
    mine = row is not None and row.tenant == principal.tenant
    if not mine or (principal.role is not AccessRole.ADMIN and row.subject != principal.subject):  # type: ignore[union-attr]
        raise HTTPException(404, f"no job {job_id}")
    return row.total  # type: ignore[union-attr]


@router.post(
    "/jobs",
    response_model=JobCreated,
    status_code=202,
    summary="Queue a batch (JSONL body, one conversation per line)",
    openapi_extra={"requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def create(
    request: Request,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.EVALUATE))],
    scorecard: Annotated[
        str | None, Query(description="A stored scorecard's name (default: the configured pack).")
    ] = None,
) -> JobCreated:
    body = await request.body()
    # Parsing, redaction and storing are CPU and disk work: off the event loop, so other requests go on.
    return await run_in_threadpool(_queue, body, service, principal, scorecard)


def _queue(body: bytes, service: Service, principal: Principal, scorecard: str | None) -> JobCreated:
    if scorecard is not None:
        try:
            service.context_for(principal.tenant, scorecard)
        except UnknownScorecard as exc:
            raise HTTPException(404, str(exc)) from None
    text = decode_bytes(body, source="request body")
    accepted: list[tuple[Conversation, str]] = []
    rejected: list[RejectedLine] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = EvaluateRequest.model_validate_json(line)
            conversation = admit(principal, record, service.settings.max_turns)
        except HTTPException as exc:
            rejected.append(RejectedLine(line=line_no, error=str(exc.detail)))
            continue
        except ValueError as exc:  # pydantic's ValidationError, including malformed JSON
            rejected.append(RejectedLine(line=line_no, error=str(exc).splitlines()[0] + ": " + _first_error(exc)))
            continue
        received = receive(conversation, store=service.store)  # the same intake as /evaluate and the CLI
        accepted.append((received.conversation, received.content_hash))
    if not accepted:
        raise InputError(f"no valid conversation in the body ({len(rejected)} lines rejected)")
    job_id = create_job(
        service.store, tenant=principal.tenant, subject=principal.subject, items=accepted, scorecard=scorecard
    )
    return JobCreated(job_id=job_id, accepted=len(accepted), rejected=rejected)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Progress and per-item status")
def status(
    job_id: str,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.READ))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> JobStatus:
    total = _visible_job(service, principal, job_id)
    counts, items = job_progress(service.store, job_id, limit=limit, offset=offset)
    finished = counts["done"] + counts["failed"] + counts["cancelled"] == total
    return JobStatus(job_id=job_id, total=total, counts=counts, finished=finished, items=[JobItem(**i) for i in items])


@router.get(
    "/jobs/{job_id}/results",
    summary="Stream the evaluations of finished items (NDJSON)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def results(
    job_id: str, service: ServiceDep, principal: Annotated[Principal, Depends(require(Action.READ))]
) -> StreamingResponse:
    _visible_job(service, principal, job_id)

    def lines() -> Iterator[bytes]:
        for evaluation in job_results(service.store, job_id):
            yield (json.dumps(evaluation, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.delete("/jobs/{job_id}", response_model=JobStatus, summary="Cancel a job's items that have not started")
def cancel(
    job_id: str,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.EVALUATE))],
) -> JobStatus:
    total = _visible_job(service, principal, job_id)
    cancel_job(service.store, job_id)
    counts, items = job_progress(service.store, job_id, limit=100, offset=0)
    finished = counts["done"] + counts["failed"] + counts["cancelled"] == total
    return JobStatus(job_id=job_id, total=total, counts=counts, finished=finished, items=[JobItem(**i) for i in items])
