"""The insight flow as a LangGraph StateGraph; thread memory comes from the checkpointer (keyed by thread id)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.insight.answer import InsightAnswer
from agents.insight.context import InsightContext
from agents.insight.nodes import compose, plan_question, receive, route_after_receive, run_tools, tool_agent
from agents.insight.state import InsightInput, InsightOutput, InsightState
from core.access import Principal
from core.settings import Settings
from core.store import Store
from knowledge.rulepacks import load_scorecard
from tools.insight.catalog import RuleCatalog
from tools.insight.encoders import TextEncoder, model_encoder
from tools.insight.toolkit import InsightToolkit


def builder() -> StateGraph[InsightState, InsightContext, InsightInput, InsightOutput]:
    """receive → (plan_question → run_tools → compose) without a model | tool_agent with one."""
    graph = StateGraph(
        InsightState, context_schema=InsightContext, input_schema=InsightInput, output_schema=InsightOutput
    )
    graph.add_node("receive", receive)
    graph.add_node("plan_question", plan_question)
    graph.add_node("run_tools", run_tools)
    graph.add_node("compose", compose)
    graph.add_node("tool_agent", tool_agent)
    graph.add_edge(START, "receive")
    graph.add_conditional_edges("receive", route_after_receive, ["plan_question", "tool_agent"])
    graph.add_edge("plan_question", "run_tools")
    graph.add_edge("run_tools", "compose")
    graph.add_edge("compose", END)
    graph.add_edge("tool_agent", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    return builder().compile(checkpointer=checkpointer)


def insight_thread_id(context: InsightContext, thread: str | None) -> str | None:
    """Checkpoint key of a user's thread: one caller's thread is never another caller's."""
    if thread is None:
        return None
    principal = context.principal
    return f"insight:{principal.tenant}:{principal.subject}:{thread}"


def ask(
    graph: CompiledStateGraph[Any, Any, Any, Any], context: InsightContext, question: str, *, thread: str | None = None
) -> InsightAnswer:
    """Answer one question; with a thread (and a checkpointer) follow-ups see the thread's earlier answers.
    A question without a thread on a checkpointed graph gets a thread of its own."""
    run_context = replace(context, thread_id=thread)
    if graph.checkpointer is None:
        result = graph.invoke({"question": question}, context=run_context)
    else:
        key = insight_thread_id(context, thread) or f"insight:{context.principal.tenant}:once:{uuid.uuid4().hex}"
        result = graph.invoke({"question": question}, {"configurable": {"thread_id": key}}, context=run_context)
    return InsightAnswer.model_validate(result["answer"])


def build_toolkit(settings: Settings, store: Store, *, encoder: TextEncoder | None = None) -> InsightToolkit:
    """The insight tools over a store: the configured rule pack's catalog and the packaged embedding model
    (cached by text in the store, loaded on first use) unless another encoder is given."""
    catalog = RuleCatalog.from_scorecard(load_scorecard(settings.rule_pack))
    return InsightToolkit(store, catalog, encoder or model_encoder(settings, store.engine))


def build_insight_context(
    settings: Settings,
    store: Store,
    principal: Principal,
    *,
    toolkit: InsightToolkit | None = None,
    model: BaseChatModel | None = None,
) -> InsightContext:
    """A run context for one caller; `model` None means the deterministic planner answers."""
    return InsightContext(
        toolkit=toolkit or build_toolkit(settings, store),
        principal=principal,
        model=model,
        prompt_language=settings.prompt_language,
    )
