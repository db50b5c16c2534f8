"""The QM flow as a LangGraph StateGraph."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from agents.qm.nodes import (
    cite,
    ingest,
    judge_semantics,
    open_tickets,
    persist,
    redact,
    route_after_ingest,
    route_after_rules,
    run_rules,
    score,
)
from agents.qm.state import QMInput, QMOutput, QMState
from core.models import Conversation


def builder() -> StateGraph[QMState, QMContext, QMInput, QMOutput]:
    """ingest → (already evaluated? end) → redact → run_rules → (judge_semantics) → cite → score → persist
    → open_tickets."""
    graph = StateGraph(QMState, context_schema=QMContext, input_schema=QMInput, output_schema=QMOutput)
    graph.add_node("ingest", ingest)
    graph.add_node("redact", redact)
    graph.add_node("run_rules", run_rules)
    graph.add_node("judge_semantics", judge_semantics)
    graph.add_node("cite", cite)
    graph.add_node("score", score)
    graph.add_node("persist", persist)
    graph.add_node("open_tickets", open_tickets)
    graph.add_edge(START, "ingest")
    graph.add_conditional_edges("ingest", route_after_ingest, ["redact", END])
    graph.add_edge("redact", "run_rules")
    graph.add_conditional_edges("run_rules", route_after_rules, ["judge_semantics", "cite"])
    graph.add_edge("judge_semantics", "cite")
    graph.add_edge("cite", "score")
    # The evaluation is stored before its ticket, so a crash in between never leaves an orphan ticket;
    # the rerun finds the evaluation and the idempotent ticket node completes the work.
    graph.add_edge("score", "persist")
    graph.add_edge("persist", "open_tickets")
    graph.add_edge("open_tickets", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    return builder().compile(checkpointer=checkpointer)


def thread_id(conversation: Conversation, context: QMContext) -> str:
    """One checkpoint thread per conversation content and rule-pack version."""
    card = context.scorecard
    content = conversation.content_hash()[:16]
    return f"qm:{conversation.tenant}:{conversation.id}:{content}:{card.name}:{card.version}"


def evaluate_conversation(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    context: QMContext,
    conversation: Conversation,
    *,
    pii: list[tuple[str, str, str]] | None = None,
) -> QMOutput:
    """Run the QM flow on one conversation. Only the final (redacted) state is checkpointed, so raw PII
    in the input never reaches the checkpoint store."""
    if graph.checkpointer is None:
        result: QMOutput = graph.invoke({"conversation": conversation, "pii": pii or []}, context=context)
        return result
    config = {"configurable": {"thread_id": thread_id(conversation, context)}}
    result = graph.invoke({"conversation": conversation, "pii": pii or []}, config, context=context, durability="exit")
    return result
