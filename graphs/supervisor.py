"""The supervisor: routes a request to the agent that handles it (the QM agent for evaluations)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from core.models import Conversation, Evaluation, Ticket
from graphs.qm import build_graph as build_qm_graph


class SupervisorInput(TypedDict):
    kind: Literal["evaluate"]
    conversation: Conversation


class SupervisorState(SupervisorInput, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


def route_request(state: SupervisorState) -> Literal["qm_agent"]:
    """Which agent handles the request. Insight and coach requests are added with those agents."""
    if state["kind"] == "evaluate":
        return "qm_agent"
    raise ValueError(f"unknown request kind {state['kind']!r}")


def builder() -> StateGraph[SupervisorState, QMContext, SupervisorInput, SupervisorState]:
    graph = StateGraph(SupervisorState, context_schema=QMContext, input_schema=SupervisorInput)
    graph.add_node("qm_agent", build_qm_graph())  # compiled separately, added as a sub-graph
    graph.add_conditional_edges(START, route_request, ["qm_agent"])
    graph.add_edge("qm_agent", END)
    return graph


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    return builder().compile(checkpointer=checkpointer)
