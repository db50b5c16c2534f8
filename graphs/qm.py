"""The QM flow as a LangGraph StateGraph, and the one function every door uses to run it."""

from __future__ import annotations

from typing import Any, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from agents.qm.intake import receive
from agents.qm.nodes import (
    assess,
    assess_each,
    conclude,
    evaluation_key,
    judge_semantics,
    record,
    record_each,
    route_after_assess,
)
from agents.qm.state import QMBatch, QMInput, QMOutput, QMState
from core.models import Conversation

QMGraph = CompiledStateGraph[Any, Any, Any, Any]


def builder() -> StateGraph[QMState, QMContext, QMInput, QMOutput]:
    """assess (reuse? rules, tier 1; with no LLM work: citations, score) → (judge_semantics: the LLM tier →
    conclude: citations, score) → record (store the evaluation, then its ticket)."""
    graph = StateGraph(QMState, context_schema=QMContext, input_schema=QMInput, output_schema=QMOutput)
    graph.add_node("assess", assess)
    graph.add_node("judge_semantics", judge_semantics)
    graph.add_node("conclude", conclude)
    graph.add_node("record", record)
    graph.add_edge(START, "assess")
    graph.add_conditional_edges("assess", route_after_assess, ["judge_semantics", "record"])
    graph.add_edge("judge_semantics", "conclude")
    graph.add_edge("conclude", "record")
    # `record` stores the evaluation before its ticket; a crash in between is completed by the next submission,
    # which finds the evaluation in `assess` and goes straight to `record` (which then only opens the ticket).
    graph.add_edge("record", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> QMGraph:
    """The compiled QM graph. Checkpoint only where it serves: runs with LLM work (see `evaluate_conversation`)."""
    return builder().compile(checkpointer=checkpointer)


def build_batch_graph() -> QMGraph:
    """The QM flow over a batch of conversations without LLM work: assess_each → record_each (the same stages as
    the single-conversation graph, one graph step each for the whole batch; nothing to checkpoint)."""
    graph = StateGraph(QMBatch, context_schema=QMContext)
    graph.add_node("assess_each", assess_each)
    graph.add_node("record_each", record_each)
    graph.add_edge(START, "assess_each")
    graph.add_edge("assess_each", "record_each")
    graph.add_edge("record_each", END)
    return graph.compile()


def run_batch(graph: QMGraph, context: QMContext, received: list[tuple[Conversation, str]]) -> list[QMState]:
    """Run the batch graph on received conversations (with their content hashes); one final state per conversation,
    in order."""
    batch: QMBatch = {"items": [{"conversation": c, "content_hash": h} for c, h in received]}
    return cast(list[QMState], graph.invoke(batch, context=context)["items"])


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
