"""GET /reports/agent/{id}, /reports/team/{team}, /reports/demand: JSON, or a self-contained HTML page with
charts (`?format=html`), within the caller's scope."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import ServiceDep, require
from api.routes.insight import ToolkitDep
from core.access import Action, Principal
from tools.insight.errors import SubjectNotFound
from tools.insight.report_html import agent_html, demand_html, team_html
from tools.insight.reports import agent_report, demand_report, team_report

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Format = Literal["json", "html"]


@router.get("/reports/agent/{agent_id}", responses={200: {"content": {"text/html": {}}}})
def agent(
    agent_id: str, service: ServiceDep, principal: Reader, toolkit: ToolkitDep, format: Format = "json"
) -> Response:
    """One agent against the rest of their team: dimensions, fail rate per rule, weekly trend, causes, evidence."""
    try:
        report = agent_report(service.store, principal, agent_id, toolkit.catalog)
    except SubjectNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if format == "html":
        return HTMLResponse(agent_html(report))
    return JSONResponse(report.model_dump(mode="json"))


@router.get("/reports/team/{team}", responses={200: {"content": {"text/html": {}}}})
def team(team: str, service: ServiceDep, principal: Reader, toolkit: ToolkitDep, format: Format = "json") -> Response:
    """A team's agents side by side, its fail rates against the caller's scope, its weekly trend."""
    try:
        report = team_report(service.store, principal, team, toolkit.catalog)
    except SubjectNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if format == "html":
        return HTMLResponse(team_html(report))
    return JSONResponse(report.model_dump(mode="json"))


@router.get("/reports/demand", responses={200: {"content": {"text/html": {}}}})
def demand(
    service: ServiceDep, principal: Reader, toolkit: ToolkitDep, scenario: str | None = None, format: Format = "json"
) -> Response:
    """Topics of customers' stated needs (counts per scenario, example quotes) and calls at complaint risk."""
    report = demand_report(service.store, principal, toolkit.encoder, scenario=scenario)
    if format == "html":
        return HTMLResponse(demand_html(report))
    return JSONResponse(report.model_dump(mode="json"))
