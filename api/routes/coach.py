"""HTTP routes of the coach feature: practice sessions and practice progress.

Coaches, QA leads and admins start sessions for agents within their scope; an agent only for themselves.
Every session read is scoped in SQL: an agent never sees another agent's session (404, as for any record
outside the caller's reach).
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.deps import ServiceDep, require
from core.access import AccessRole, Action, Principal
from graphs.coach import (
    PracticeSessions,
    ScenarioError,
    SessionOver,
    SessionView,
    build_coach_context,
    build_graph,
)
from graphs.supervisor import SupervisedSessions
from graphs.wiring import open_sqlite_checkpointer
from tools.coaching.models import AgentOrg, AgentProgress
from tools.coaching.progress import practice_progress
from tools.coaching.sessions import find_session
from tools.coaching.weakness import agent_org, weakness_profile

router = APIRouter(prefix="/coach", tags=["coach"])
_lock = threading.Lock()
TRAINERS = frozenset({AccessRole.ADMIN, AccessRole.QA_LEAD, AccessRole.COACH})


class StartSession(BaseModel):
    agent_id: str = Field(min_length=1, max_length=100)
    rules: list[str] = Field(default_factory=list, description="Rules to train (default: the agent's weakest).")
    codes: list[str] = Field(default_factory=list, description="Category codes to train.")
    language: Literal["zh", "en"] = "zh"


class AgentReply(BaseModel):
    reply: str = Field(min_length=1, max_length=4000)


def get_sessions(request: Request, service: ServiceDep) -> SupervisedSessions:
    """The server's practice sessions: `app.state.coach` when the lifespan made one, else made once here."""
    sessions: SupervisedSessions | None = getattr(request.app.state, "coach", None)
    if sessions is None:
        with _lock:
            sessions = getattr(request.app.state, "coach", None)
            if sessions is None:
                checkpointer = open_sqlite_checkpointer(service.settings.resolved_checkpoint_path)
                context = build_coach_context(service.settings, service.store)
                sessions = SupervisedSessions(PracticeSessions(build_graph(checkpointer=checkpointer), context))
                request.app.state.coach = sessions
    return sessions


SessionsDep = Annotated[SupervisedSessions, Depends(get_sessions)]
Reader = Annotated[Principal, Depends(require(Action.READ))]


def _may_train(principal: Principal, agent_id: str) -> None:
    if principal.role is AccessRole.AGENT:
        if principal.agent_id != agent_id:
            raise HTTPException(403, "an agent may practise only as themselves")
    elif principal.role not in TRAINERS:
        raise HTTPException(403, f"role {principal.role.value} may not run practice sessions")


def _session(service: ServiceDep, principal: Principal, session_id: str) -> None:
    if find_session(service.store, principal, session_id) is None:
        raise HTTPException(404, f"no practice session {session_id}")


@router.post("/sessions", status_code=201, response_model=SessionView)
def start_session(body: StartSession, service: ServiceDep, sessions: SessionsDep, principal: Reader) -> SessionView:
    """Start a session for an agent: the scenario (from the agent's weak rules or the chosen ones) and the
    customer's first line."""
    _may_train(principal, body.agent_id)
    org = agent_org(service.store, principal, body.agent_id)
    if org is None and principal.role is AccessRole.AGENT:
        org = AgentOrg(tenant=principal.tenant, agent_id=body.agent_id, **principal.scope())
    if org is None or not principal.sees(tenant=org.tenant, agent_id=org.agent_id, **org.path()):
        raise HTTPException(404, f"no evaluated calls of agent {body.agent_id} within your scope")
    profile = weakness_profile(service.store, principal, org, sessions.context.scorecard)
    try:
        return sessions.start(
            agent=org,
            profile=profile,
            started_by=principal.subject,
            rules=body.rules,
            codes=body.codes,
            language=body.language,
        )
    except ScenarioError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/sessions/{session_id}/turns", response_model=SessionView)
def reply(
    session_id: str, body: AgentReply, service: ServiceDep, sessions: SessionsDep, principal: Reader
) -> SessionView:
    """The agent's reply: feedback on it (the last `feedback` entry) and the customer's next line."""
    _session(service, principal, session_id)
    view = sessions.view(session_id)
    _may_train(principal, view.agent_id)
    try:
        return sessions.say(session_id, body.reply)
    except SessionOver as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/sessions/{session_id}/end", response_model=SessionView)
def end_session(session_id: str, service: ServiceDep, sessions: SessionsDep, principal: Reader) -> SessionView:
    """End the session (if still going) and return it with its debrief."""
    _session(service, principal, session_id)
    _may_train(principal, sessions.view(session_id).agent_id)
    return sessions.end(session_id)


@router.get("/sessions/{session_id}", response_model=SessionView)
def get_session(session_id: str, service: ServiceDep, sessions: SessionsDep, principal: Reader) -> SessionView:
    """The session as it stands: scenario, transcript, feedback, and the debrief once ended."""
    _session(service, principal, session_id)
    return sessions.view(session_id)


@router.get("/agents/{agent_id}/progress", response_model=AgentProgress)
def progress(agent_id: str, service: ServiceDep, principal: Reader) -> AgentProgress:
    """Practice history, pass rate per trained rule, and its fail rate in real calls before and after practice."""
    return practice_progress(service.store, principal, agent_id)
