"""The supervisor: routes a request to the agent that handles it.

Every evaluation — CLI, `/evaluate`, `/jobs`, recordings — enters here through `evaluate`, which receives
the conversation once (fingerprint, normalise, redact, vault to the store) and hands it to the QM agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agents.qm.context import QMContext
from agents.qm.intake import receive
from core.models import Conversation, Evaluation, Ticket
from graphs.qm import QMGraph, run_received
from graphs.qm import build_graph as build_qm_graph

RequestKind = Literal["evaluate"]


class SupervisorInput(TypedDict):
    kind: RequestKind
    conversation: Conversation  # received (redacted)
    content_hash: str


class SupervisorState(SupervisorInput, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


@dataclass(frozen=True)
class SupervisorContext:
    """Each agent's own run context, chosen by the caller."""

    qm: QMContext
    qm_graph: QMGraph


def route_request(state: SupervisorState) -> Literal["qm_agent"]:
    """Which agent handles the request."""
    if state["kind"] == "evaluate":
        return "qm_agent"
    raise ValueError(f"unknown request kind {state['kind']!r}")


def qm_agent(state: SupervisorState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    """The QM agent on the received conversation (its own graph, its own context and checkpoints)."""
    ctx = runtime.context
    output = run_received(ctx.qm_graph, ctx.qm, state["conversation"], state["content_hash"])
    return {
        "evaluation": output["evaluation"],
        "tickets": output.get("tickets", []),
        "reused": output.get("reused", False),
    }


def builder() -> StateGraph[SupervisorState, SupervisorContext, SupervisorInput, SupervisorState]:
    graph = StateGraph(SupervisorState, context_schema=SupervisorContext, input_schema=SupervisorInput)
    graph.add_node("qm_agent", qm_agent)
    graph.add_conditional_edges(START, route_request, ["qm_agent"])
    graph.add_edge("qm_agent", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    return builder().compile(checkpointer=checkpointer)


@dataclass(frozen=True)
class Evaluator:
    """The supervisor compiled once with the QM agent's graph and context: the single way evaluations run."""

    supervisor: CompiledStateGraph[Any, Any, Any, Any]
    context: SupervisorContext

    @classmethod
    def create(cls, qm: QMContext, *, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Evaluator:
        """Checkpoints are kept only for runs with LLM work (`checkpointer` is ignored without a judge)."""
        qm_graph = build_qm_graph(checkpointer=checkpointer if qm.judge is not None else None)
        return cls(build_graph(), SupervisorContext(qm=qm, qm_graph=qm_graph))

    def with_qm(self, qm: QMContext) -> Evaluator:
        """The same graphs with another QM context (a tenant's scorecard, a dry run)."""
        return Evaluator(self.supervisor, SupervisorContext(qm=qm, qm_graph=self.context.qm_graph))

    def evaluate(self, conversation: Conversation, *, content_hash: str | None = None) -> SupervisorState:
        """Receive a conversation as it arrived and evaluate it; `content_hash` overrides the fingerprint."""
        received = receive(conversation, store=self.context.qm.store, content_hash=content_hash)
        return self.evaluate_received(received.conversation, received.content_hash)

    def evaluate_received(self, conversation: Conversation, content_hash: str) -> SupervisorState:
        """Evaluate a conversation already received (e.g. queued by `/jobs` after intake)."""
        request: SupervisorInput = {"kind": "evaluate", "conversation": conversation, "content_hash": content_hash}
        result: SupervisorState = self.supervisor.invoke(request, context=self.context)
        return result
