"""Health, readiness, user tokens and regulation search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import text

from api.deps import ServiceDep, issue_token, require
from api.limits import LoginThrottle, TooManyAttempts, known_query_only
from api.schemas import Token
from core.access import Action, Principal
from core.accounts import authenticate_user
from core.models import Citation
from tools.regulation_query import RegulationFilter

router = APIRouter(dependencies=[Depends(known_query_only)])


@router.get("/healthz", tags=["system"], summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["system"], summary="The database answers; whether regulation clauses are loaded")
def readyz(service: ServiceDep) -> dict[str, str]:
    """Ready once the database answers. Evaluations run meanwhile; `citations` says whether clause texts are
    attached yet (`loading` while the corpus is indexed in the background, `ready`, `disabled`, `failed: …`)."""
    try:
        with service.store.session() as s:
            s.execute(text("select 1"))
    except Exception as exc:  # readiness reports, it does not raise
        raise HTTPException(503, f"database not ready: {type(exc).__name__}") from None
    return {"status": "ready", **service.readiness()}


@router.post(
    "/auth/token",
    response_model=Token,
    tags=["auth"],
    summary="OAuth2 password flow for people (rate-limited per client and per username)",
    responses={429: {"description": "Too many sign-in attempts; see Retry-After."}},
)
def token(request: Request, service: ServiceDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    throttle: LoginThrottle | None = getattr(request.app.state, "login_throttle", None)
    if throttle is not None:
        client = request.client.host if request.client else "unknown"
        wait = throttle.retry_after(client=client, username=form.username)
        if wait is not None:
            raise TooManyAttempts(wait)
    principal = authenticate_user(service.store, form.username, form.password)
    if principal is None:
        raise HTTPException(401, "wrong username or password")
    return Token(access_token=issue_token(service, form.username))


@router.get("/regulations/search", response_model=list[Citation], tags=["regulations"], summary="Search regulations")
def search(
    service: ServiceDep,
    _: Annotated[Principal, Depends(require(Action.SEARCH_REGULATIONS))],
    q: Annotated[str, Query(min_length=1, max_length=500)],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    regulation: Annotated[list[str] | None, Query()] = None,
    scenario: str | None = None,
) -> list[Citation]:
    if service.regulations is None:
        status = service.citations_status
        if status == "loading":
            raise HTTPException(
                503, "the regulation corpus is still being indexed; try again shortly", headers={"Retry-After": "10"}
            )
        if status == "disabled":
            raise HTTPException(503, "the regulation knowledge base is not enabled (ZHIJIAN_CITATIONS=false)")
        raise HTTPException(503, f"the regulation knowledge base is unavailable ({status})")
    return service.regulations.search(q, k=k, filters=RegulationFilter(regulations=regulation, scenario=scenario))
