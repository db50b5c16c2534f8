"""The coach flow as a LangGraph StateGraph: one checkpoint thread per practice session, `interrupt()` waiting for
each agent reply, resumable after a restart; and `PracticeSessions`, the start/say/end/view entry the CLI and
the API share."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

import agents.coach.models as coach_models
import tools.coaching.models as coaching_models
from agents.coach.context import CoachContext
from agents.coach.models import Debrief, PracticeTurn, ReplyFeedback, Scenario
from agents.coach.nodes import (
    assess_reply,
    await_reply,
    customer_turn,
    debrief,
    open_session,
    plan_scenario,
    record_results,
    route_after_assess,
    route_after_reply,
)
from agents.coach.scenario import ScenarioError
from agents.coach.state import CoachInput, CoachState
from agents.qm.context import SmallModels
from core.errors import ZhijianError
from core.settings import Settings
from core.store import Store
from tools.coaching.models import AgentOrg, WeaknessProfile
from tools.coaching.pool import PoolProvider, TextEmbedder, VectorCache

__all__ = ["PracticeSessions", "ScenarioError", "SessionNotFound", "SessionOver", "SessionView", "build_graph"]


class SessionNotFound(ZhijianError):
    """No practice session of that id (or not one the caller may see)."""


class SessionOver(ZhijianError):
    """The session has ended: it takes no more replies."""


def builder() -> StateGraph[CoachState, CoachContext, CoachInput, CoachState]:
    """plan_scenario → open_session → customer_turn → await_reply ⟲ assess_reply → … → debrief → record_results."""
    graph = StateGraph(CoachState, context_schema=CoachContext, input_schema=CoachInput)
    graph.add_node("plan_scenario", plan_scenario)
    graph.add_node("open_session", open_session)
    graph.add_node("customer_turn", customer_turn)
    graph.add_node("await_reply", await_reply)
    graph.add_node("assess_reply", assess_reply)
    graph.add_node("debrief", debrief)
    graph.add_node("record_results", record_results)
    graph.add_edge(START, "plan_scenario")
    graph.add_edge("plan_scenario", "open_session")
    graph.add_edge("open_session", "customer_turn")
    graph.add_edge("customer_turn", "await_reply")
    graph.add_conditional_edges("await_reply", route_after_reply, ["assess_reply", "debrief"])
    graph.add_conditional_edges("assess_reply", route_after_assess, ["customer_turn", "debrief"])
    graph.add_edge("debrief", "record_results")
    graph.add_edge("record_results", END)
    return graph


def state_types() -> list[tuple[str, str]]:
    """The coach's own state types, allowed in checkpoints beside core.models."""
    return [
        (module.__name__, name)
        for module in (coach_models, coaching_models)
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__ and issubclass(value, BaseModel | Enum)
    ]


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled coach flow; a checkpointer is given the coach's state types to revive."""
    if checkpointer is not None:
        checkpointer = checkpointer.with_allowlist(state_types())
    return builder().compile(checkpointer=checkpointer)


def _tier_one(settings: Settings) -> SmallModels | None:
    if not getattr(settings, "small_models", True):
        return None
    try:
        from tools.small_model import SmallModelTier

        model: SmallModels = SmallModelTier.load_default()
        return model
    except (ImportError, OSError, ValueError, ZhijianError):
        return None  # not trained or not shipped yet: tier 0 alone, said in each debrief's notes


def build_coach_context(
    settings: Settings, store: Store, *, embedder: TextEmbedder | None = None, pools: PoolProvider | None = None
) -> CoachContext:
    """The coach's runtime from settings: the configured scorecard and tiers, the customer pool, and the chat
    model that plays the customer when one is configured."""
    from core.llm import build_chat_model
    from graphs.wiring import build_judge, build_qm_context
    from prompts import load_prompt

    qm = build_qm_context(settings, store=None)
    if pools is None:
        if embedder is None:
            from core.embeddings import build_embedding

            embedder = build_embedding(settings)
        pools = PoolProvider(store, VectorCache(store, embedder))
    return CoachContext(
        scorecard=qm.scorecard,
        engine=qm.engine,
        store=store,
        pools=pools,
        customer_model=build_chat_model(settings),
        persona_prompts={lang: load_prompt("coach/persona", lang) for lang in ("zh", "en")},
        small_models=_tier_one(settings),
        judge=build_judge(settings, cache=store),
    )


class SessionView(BaseModel):
    """A session as the CLI and the API show it."""

    session_id: str
    agent_id: str
    status: Literal["active", "ended"]
    scenario: Scenario
    customer: str | None  # the line waiting for the agent's reply (None once ended)
    transcript: list[PracticeTurn]
    feedback: list[ReplyFeedback]
    debrief: Debrief | None


class PracticeSessions:
    """Start, continue, end and read practice sessions (access is checked by the caller, before)."""

    def __init__(self, graph: CompiledStateGraph[Any, Any, Any, Any], context: CoachContext) -> None:
        if graph.checkpointer is None:
            raise ValueError("practice sessions need a checkpointer: they span several requests")
        self.graph = graph
        self.context = context

    def close(self) -> None:
        """Release the checkpoint connection and the judge's threads (server shutdown)."""
        saver = self.graph.checkpointer
        connection = getattr(saver, "conn", None)
        if connection is not None:
            connection.close()
        if self.context.judge is not None:
            self.context.judge.close()

    @staticmethod
    def _config(session_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": f"coach:{session_id}"}}

    def start(
        self,
        *,
        agent: AgentOrg,
        profile: WeaknessProfile,
        started_by: str,
        rules: list[str] | None = None,
        codes: list[str] | None = None,
        language: Literal["zh", "en"] = "zh",
    ) -> SessionView:
        """A new session: the scenario and the customer's first line."""
        session_id = uuid.uuid4().hex
        payload: CoachInput = {
            "session_id": session_id,
            "agent": agent,
            "started_by": started_by,
            "profile": profile,
            "rules": list(rules or []),
            "codes": list(codes or []),
            "language": language,
        }
        self.graph.invoke(payload, self._config(session_id), context=self.context, durability="sync")
        return self._view(session_id)

    def say(self, session_id: str, reply: str) -> SessionView:
        """The agent's reply: feedback on it (the view's last feedback) and the customer's next line."""
        view = self._view(session_id)
        if view.status == "ended":
            raise SessionOver(f"practice session {session_id} has ended")
        self.graph.invoke(
            Command(resume={"reply": reply}), self._config(session_id), context=self.context, durability="sync"
        )
        return self._view(session_id)

    def end(self, session_id: str) -> SessionView:
        """End the session (when still going) and return it with its debrief."""
        view = self._view(session_id)
        if view.status == "active":
            self.graph.invoke(
                Command(resume={"end": True}), self._config(session_id), context=self.context, durability="sync"
            )
            view = self._view(session_id)
        return view

    def view(self, session_id: str) -> SessionView:
        """The session as it stands."""
        return self._view(session_id)

    def _view(self, session_id: str) -> SessionView:
        snapshot = self.graph.get_state(self._config(session_id))
        values = snapshot.values
        if not values or "scenario" not in values:
            raise SessionNotFound(f"no practice session {session_id}")
        waiting = "await_reply" in snapshot.next
        transcript = list(values.get("transcript", []))
        return SessionView(
            session_id=session_id,
            agent_id=values["agent"].agent_id,
            status="active" if waiting else "ended",
            scenario=values["scenario"],
            customer=transcript[-1].text if waiting and transcript else None,
            transcript=transcript,
            feedback=list(values.get("feedback", [])),
            debrief=values.get("debrief"),
        )
