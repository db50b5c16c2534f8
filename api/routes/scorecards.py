"""Scorecards (rule packs) as data: list, read, upload a new one, upload a new version of one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from api.deps import ServiceDep, require
from api.limits import known_query_only
from core.access import Action, Principal
from core.scorecard import Scorecard
from core.scorecards import latest_source, list_versions, save_scorecard
from knowledge.rulepacks import parse_scorecard
from tools.transcripts import decode_bytes

MAX_YAML_DEPTH = 100
router = APIRouter(tags=["scorecards"], dependencies=[Depends(known_query_only)])
_YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {"schema": {"type": "string"}}}}}


class ScorecardVersion(BaseModel):
    name: str
    version: str
    created_by: str | None = None


class ScorecardSaved(ScorecardVersion):
    created: bool
    rules: int


class RuleSummary(BaseModel):
    id: str
    code: str
    name: str
    dimension: str
    check: str
    deduction: float
    severity: str
    auto_fail: bool


class ScorecardDetail(ScorecardVersion):
    title: str
    rules: list[RuleSummary]
    source: str


class ScorecardList(BaseModel):
    default: ScorecardVersion
    stored: list[ScorecardVersion]


@router.get("/scorecards", response_model=ScorecardList, summary="The configured pack and the tenant's stored ones")
def list_scorecards(
    service: ServiceDep, principal: Annotated[Principal, Depends(require(Action.READ_SCORECARDS))]
) -> ScorecardList:
    card = service.context.scorecard
    stored = [
        ScorecardVersion(name=n, version=v, created_by=by)
        for n, v, by, _ in list_versions(service.store, tenant=principal.tenant)
    ]
    return ScorecardList(default=ScorecardVersion(name=card.name, version=card.version), stored=stored)


@router.get("/scorecards/{name}", response_model=ScorecardDetail, summary="The latest version of a stored pack")
def get_scorecard(
    name: str, service: ServiceDep, principal: Annotated[Principal, Depends(require(Action.READ_SCORECARDS))]
) -> ScorecardDetail:
    source = latest_source(service.store, tenant=principal.tenant, name=name)
    if source is None:
        raise HTTPException(404, f"no scorecard {name}")
    card = _parse(source, f"scorecard {name}")
    rules = [
        RuleSummary(
            id=r.id,
            code=r.code,
            name=r.name,
            dimension=r.effective_dimension.value,
            check=r.check.type,
            deduction=r.deduction,
            severity=r.severity.value,
            auto_fail=r.auto_fail,
        )
        for r in card.rules
    ]
    return ScorecardDetail(name=card.name, version=card.version, title=card.title, rules=rules, source=source)


def _parse(source: str, label: str) -> Scorecard:
    """The pack, or a 422 for YAML nested too deeply to parse (it would exhaust the parser's recursion)."""
    if _nesting_depth(source) > MAX_YAML_DEPTH:
        raise HTTPException(422, f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep")
    try:
        return parse_scorecard(source, source=label, verify=True)  # a lying example is refused at upload
    except RecursionError:
        raise HTTPException(422, "the YAML is nested too deeply to parse") from None


def _nesting_depth(source: str) -> int:
    """An upper bound on flow-style nesting ([ and {), which costs the parser a recursion level each."""
    depth = deepest = 0
    for ch in source:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


async def _save(request: Request, service: ServiceDep, principal: Principal, name: str | None) -> ScorecardSaved:
    source = decode_bytes(await request.body(), source="request body")
    card = _parse(source, "uploaded scorecard")  # a bad rule is a 422 naming its field
    if name is not None and card.name != name:
        raise HTTPException(422, f"the pack is named {card.name!r}, not {name!r}")
    created = save_scorecard(
        service.store, tenant=principal.tenant, card=card, source=source, created_by=principal.subject
    )
    return ScorecardSaved(name=card.name, version=card.version, created=created, rules=len(card.rules))


@router.post(
    "/scorecards",
    response_model=ScorecardSaved,
    status_code=201,
    openapi_extra=_YAML_BODY,
    summary="Upload a rule pack (YAML); it is validated and stored as a new version",
)
async def post_scorecard(
    request: Request, service: ServiceDep, principal: Annotated[Principal, Depends(require(Action.MANAGE_SCORECARDS))]
) -> Any:
    return await _save(request, service, principal, None)


@router.put(
    "/scorecards/{name}",
    response_model=ScorecardSaved,
    openapi_extra=_YAML_BODY,
    summary="Upload a new version of a named rule pack",
)
async def put_scorecard(
    name: str,
    request: Request,
    service: ServiceDep,
    principal: Annotated[Principal, Depends(require(Action.MANAGE_SCORECARDS))],
) -> Any:
    return await _save(request, service, principal, name)
