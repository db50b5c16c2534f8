"""The supervisor: routes a request to the agent that handles it.

Every evaluation — CLI, `/evaluate`, `/jobs`, recordings — enters here through `evaluate`, which receives
the conversation once (fingerprint, normalise, redact, vault to the store) and hands it to the QM agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Required, TypedDict, cast

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agents.qm.context import QMContext
from agents.qm.intake import receive
from core.models import Conversation, Evaluation, Ticket
from graphs.qm import QMGraph, build_batch_graph, run_batch, run_received
from graphs.qm import build_graph as build_qm_graph

if TYPE_CHECKING:  # the insight and coach stacks load only when their requests come
    from agents.insight.answer import InsightAnswer
    from agents.insight.context import InsightContext
    from graphs.coach import PracticeSessions, SessionView

RequestKind = Literal["evaluate", "ask", "practice"]
PracticeAction = Literal["start", "say", "end", "view"]


class SupervisorInput(TypedDict, total=False):
    kind: Required[RequestKind]
    conversation: Conversation  # evaluate: received (redacted)
    content_hash: str
    batch: list[tuple[Conversation, str]]  # evaluate many: received conversations and their content hashes
    question: str  # ask
    thread: str | None
    action: PracticeAction  # practice
    session_id: str
    reply: str
    start: dict[str, Any]  # practice start: PracticeSessions.start's keyword arguments


class QMResult(TypedDict):
    """One evaluated conversation: its evaluation, its tickets, and whether a stored evaluation was reused."""

    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


class SupervisorState(SupervisorInput, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool
    results: list[QMResult]  # evaluate many: one per conversation, in order
    answer: Any  # ask: the insight agent's InsightAnswer
    session: Any  # practice: the coach's SessionView


@dataclass(frozen=True)
class SupervisorContext:
    """Each agent's own run context, chosen by the caller (only the one the request needs)."""

    qm: QMContext | None = None
    qm_graph: QMGraph | None = None
    qm_batch_graph: QMGraph | None = None  # batches without LLM work
    insight: Any = None  # (insight graph, InsightContext) for the QA lead asking
    coach: Any = None  # PracticeSessions (the coach graph and its context)


def route_request(state: SupervisorState) -> Literal["qm_agent", "insight_agent", "coach_agent"]:
    """Which agent handles the request: evaluations → QM, questions → insight, practice → coach."""
    kind = state["kind"]
    if kind == "evaluate":
        return "qm_agent"
    if kind == "ask":
        return "insight_agent"
    if kind == "practice":
        return "coach_agent"
    raise ValueError(f"unknown request kind {kind!r}")


def qm_agent(state: SupervisorState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    """The QM agent on the received conversation (its own graph, its own context and checkpoints), or on each of a
    batch in turn: one supervisor step for a chunk of a large batch, whose bookkeeping would otherwise cost as much
    as evaluating a conversation's rules. An error stops the batch and propagates (what was stored stays stored)."""
    ctx = runtime.context
    assert ctx.qm is not None and ctx.qm_graph is not None, "an evaluation needs the QM context"
    if "batch" in state:
        if ctx.qm.judge is None and ctx.qm_batch_graph is not None:
            return {"results": [_qm_result(item) for item in run_batch(ctx.qm_batch_graph, ctx.qm, state["batch"])]}
        return {"results": [_qm_result(run_received(ctx.qm_graph, ctx.qm, c, h)) for c, h in state["batch"]]}
    return dict(_qm_result(run_received(ctx.qm_graph, ctx.qm, state["conversation"], state["content_hash"])))


def _qm_result(output: Mapping[str, Any]) -> QMResult:
    return {
        "evaluation": output["evaluation"],
        "tickets": output.get("tickets", []),
        "reused": output.get("reused", False),
    }


def insight_agent(state: SupervisorState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    """The insight agent answers a QA lead's question (its own graph; thread memory in its checkpoints)."""
    from graphs.insight import ask

    graph, context = runtime.context.insight
    return {"answer": ask(graph, context, state["question"], thread=state.get("thread"))}


def coach_agent(state: SupervisorState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    """The coach agent starts, continues, ends or shows a practice session (its own interrupting graph)."""
    sessions = runtime.context.coach
    action = state["action"]
    if action == "start":
        return {"session": sessions.start(**state["start"])}
    if action == "say":
        return {"session": sessions.say(state["session_id"], state["reply"])}
    if action == "end":
        return {"session": sessions.end(state["session_id"])}
    return {"session": sessions.view(state["session_id"])}


def builder() -> StateGraph[SupervisorState, SupervisorContext, SupervisorInput, SupervisorState]:
    graph = StateGraph(SupervisorState, context_schema=SupervisorContext, input_schema=SupervisorInput)
    graph.add_node("qm_agent", qm_agent)
    graph.add_node("insight_agent", insight_agent)
    graph.add_node("coach_agent", coach_agent)
    graph.add_conditional_edges(START, route_request, ["qm_agent", "insight_agent", "coach_agent"])
    for node in ("qm_agent", "insight_agent", "coach_agent"):
        graph.add_edge(node, END)
    return graph


_SUPERVISOR: CompiledStateGraph[Any, Any, Any, Any] | None = None


_QM_BATCH: QMGraph | None = None


def _batch_graph() -> QMGraph:
    global _QM_BATCH  # compiled once per process: it holds no resources (no checkpointer)
    if _QM_BATCH is None:
        _QM_BATCH = build_batch_graph()
    return _QM_BATCH


def _compiled() -> CompiledStateGraph[Any, Any, Any, Any]:
    global _SUPERVISOR  # compiled once per process: it holds no resources, only the routing
    if _SUPERVISOR is None:
        _SUPERVISOR = build_graph()
    return _SUPERVISOR


def ask_insight(graph: Any, context: InsightContext, question: str, *, thread: str | None = None) -> InsightAnswer:
    """A QA lead's question, routed by the supervisor to the insight agent; returns its answer."""
    request: SupervisorInput = {"kind": "ask", "question": question, "thread": thread}
    result = _compiled().invoke(request, context=SupervisorContext(insight=(graph, context)))
    return cast("InsightAnswer", result["answer"])


class SupervisedSessions:
    """Practice sessions whose every step is routed by the supervisor to the coach agent."""

    def __init__(self, sessions: PracticeSessions) -> None:
        self.sessions = sessions
        self.context = sessions.context

    def close(self) -> None:
        self.sessions.close()

    def _run(self, request: SupervisorInput) -> SessionView:
        result = _compiled().invoke(request, context=SupervisorContext(coach=self.sessions))
        return cast("SessionView", result["session"])

    def start(self, **arguments: Any) -> SessionView:
        """A new session (PracticeSessions.start's keyword arguments)."""
        return self._run({"kind": "practice", "action": "start", "start": arguments})

    def say(self, session_id: str, reply: str) -> SessionView:
        return self._run({"kind": "practice", "action": "say", "session_id": session_id, "reply": reply})

    def end(self, session_id: str) -> SessionView:
        return self._run({"kind": "practice", "action": "end", "session_id": session_id})

    def view(self, session_id: str) -> SessionView:
        return self._run({"kind": "practice", "action": "view", "session_id": session_id})


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
        return cls(_compiled(), SupervisorContext(qm=qm, qm_graph=qm_graph, qm_batch_graph=_batch_graph()))

    def with_qm(self, qm: QMContext) -> Evaluator:
        """The same graphs with another QM context (a tenant's scorecard, a dry run)."""
        return Evaluator(
            self.supervisor,
            SupervisorContext(qm=qm, qm_graph=self.context.qm_graph, qm_batch_graph=self.context.qm_batch_graph),
        )

    def evaluate(self, conversation: Conversation, *, content_hash: str | None = None) -> SupervisorState:
        """Receive a conversation as it arrived and evaluate it; `content_hash` overrides the fingerprint."""
        assert self.context.qm is not None, "an evaluator has a QM context"
        received = receive(conversation, store=self.context.qm.store, content_hash=content_hash)
        return self.evaluate_received(received.conversation, received.content_hash)

    def evaluate_received(self, conversation: Conversation, content_hash: str) -> SupervisorState:
        """Evaluate a conversation already received (e.g. queued by `/jobs` after intake)."""
        request: SupervisorInput = {"kind": "evaluate", "conversation": conversation, "content_hash": content_hash}
        return cast(SupervisorState, self.supervisor.invoke(request, context=self.context))

    def evaluate_received_many(self, received: list[tuple[Conversation, str]]) -> list[QMResult]:
        """Evaluate received conversations (with their content hashes) in one supervisor request, in order."""
        if not received:
            return []
        request: SupervisorInput = {"kind": "evaluate", "batch": received}
        return cast(list[QMResult], self.supervisor.invoke(request, context=self.context)["results"])
