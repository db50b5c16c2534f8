"""The QM flow as a LangGraph StateGraph, and the one function every door uses to run it."""

from __future__ import annotations

from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from agents.qm.intake import receive
from agents.qm.nodes import (
    cite,
    classify,
    evaluation_key,
    ingest,
    judge_semantics,
    open_tickets,
    persist,
    route_after_classify,
    route_after_ingest,
    run_rules,
    score,
)
from agents.qm.state import QMInput, QMOutput, QMState
from core.models import Conversation

QMGraph = CompiledStateGraph[Any, Any, Any, Any]


def builder() -> StateGraph[QMState, QMContext, QMInput, QMOutput]:
    """ingest → (already evaluated? open_tickets) → run_rules → classify → (judge_semantics) → cite → score
    → persist → open_tickets."""
    graph = StateGraph(QMState, context_schema=QMContext, input_schema=QMInput, output_schema=QMOutput)
    graph.add_node("ingest", ingest)
    graph.add_node("run_rules", run_rules)
    graph.add_node("classify", classify)
    graph.add_node("judge_semantics", judge_semantics)
    graph.add_node("cite", cite)
    graph.add_node("score", score)
    graph.add_node("persist", persist)
    graph.add_node("open_tickets", open_tickets)
    graph.add_edge(START, "ingest")
    graph.add_conditional_edges("ingest", route_after_ingest, ["run_rules", "open_tickets"])
    graph.add_edge("run_rules", "classify")
    graph.add_conditional_edges("classify", route_after_classify, ["judge_semantics", "cite"])
    graph.add_edge("judge_semantics", "cite")
    graph.add_edge("cite", "score")
    # The evaluation is stored before its ticket; a crash in between is completed by the next submission,
    # which finds the evaluation in `ingest` and goes straight to the idempotent ticket node.
    graph.add_edge("score", "persist")
    graph.add_edge("persist", "open_tickets")
    graph.add_edge("open_tickets", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> QMGraph:
    """The compiled QM graph. Checkpoint only where it serves: runs with LLM work (see `evaluate_conversation`)."""
    return builder().compile(checkpointer=checkpointer)


def thread_id(conversation: Conversation, content_hash: str, context: QMContext) -> str:
    """One checkpoint thread per evaluation: conversation content under one rule-pack version."""
    key = evaluation_key(
        conversation.tenant, conversation.id, content_hash, context.scorecard.name, context.verdict_version
    )
    return f"qm:{key}"


def run_received(graph: QMGraph, context: QMContext, conversation: Conversation, content_hash: str) -> QMOutput:
    """Run the QM graph on a received (normalised, redacted) conversation.

    Without a checkpointer the run keeps nothing. With one (LLM work), a run interrupted part-way resumes
    from its last step on the next call, and the thread is deleted once the run has finished, so the
    checkpoint store holds only unfinished work."""
    state: QMInput = {"conversation": conversation, "content_hash": content_hash}
    if graph.checkpointer is None:
        return cast(QMOutput, graph.invoke(state, context=context))
    thread = thread_id(conversation, content_hash, context)
    config: Any = {"configurable": {"thread_id": thread}}
    pending = graph.get_state(config).next
    result = cast(QMOutput, graph.invoke(None if pending else state, config, context=context))
    checkpointer = graph.checkpointer
    if isinstance(checkpointer, BaseCheckpointSaver):
        checkpointer.delete_thread(thread)
    return result


def evaluate_conversation(
    graph: QMGraph, context: QMContext, conversation: Conversation, *, content_hash: str | None = None
) -> QMOutput:
    """Receive a conversation as it arrived (fingerprint, normalise, redact, store the vault) and evaluate it.
    `content_hash` overrides the fingerprint (a recording is fingerprinted by its audio bytes)."""
    received = receive(conversation, store=context.store, content_hash=content_hash)
    return run_received(graph, context, received.conversation, received.content_hash)
