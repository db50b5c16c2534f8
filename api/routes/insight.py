"""POST /insight/ask: a QA lead's question answered from the data within the caller's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from agents.insight.answer import InsightAnswer
from api.deps import ServiceDep, require
from core.access import Action, Principal
from core.errors import ZhijianError
from core.llm import build_chat_model
from graphs.insight import build_graph, build_insight_context, build_toolkit
from graphs.supervisor import ask_insight
from graphs.wiring import open_sqlite_checkpointer
from tools.insight.toolkit import InsightToolkit

router = APIRouter(tags=["insight"])
Reader = Annotated[Principal, Depends(require(Action.READ))]


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=1000, examples=["为什么17号坐席表现不好？"])
    thread_id: str | None = Field(
        default=None, max_length=200, description="Keeps follow-ups in one conversation (per caller)."
    )


def insight_toolkit(request: Request, service: ServiceDep) -> InsightToolkit:
    """The insight tools of this server, created on first use (the embedding model loads only when needed)."""
    toolkit: InsightToolkit | None = getattr(request.app.state, "insight_toolkit", None)
    if toolkit is None:
        toolkit = build_toolkit(service.settings, service.store)
        request.app.state.insight_toolkit = toolkit
    return toolkit


ToolkitDep = Annotated[InsightToolkit, Depends(insight_toolkit)]


def _chat_model(request: Request, service: ServiceDep) -> Any:
    marker = object()
    model = getattr(request.app.state, "insight_model", marker)
    if model is marker:
        model = build_chat_model(service.settings)
        request.app.state.insight_model = model
    return model


@router.post("/insight/ask", response_model=InsightAnswer)
def ask_question(
    body: AskRequest, request: Request, service: ServiceDep, principal: Reader, toolkit: ToolkitDep
) -> InsightAnswer:
    """Answer a question about agents, teams, branches or customers with numbers (baseline and n), likely
    causes and evidence quotes — only from calls within the caller's tenant and org subtree."""
    try:
        model = _chat_model(request, service)
    except ZhijianError as exc:
        raise HTTPException(503, f"the configured language model is unavailable: {exc}") from None
    context = build_insight_context(service.settings, service.store, principal, toolkit=toolkit, model=model)
    if body.thread_id is None:
        return ask_insight(build_graph(), context, body.question)
    checkpointer = open_sqlite_checkpointer(service.settings.resolved_checkpoint_path)
    try:
        return ask_insight(build_graph(checkpointer=checkpointer), context, body.question, thread=body.thread_id)
    finally:
        checkpointer.conn.close()
