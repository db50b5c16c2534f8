"""Evaluate the demo organisation into the settings' store through the QM graph (idempotent on re-run)."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.settings import Settings
from core.store import Store
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context
from knowledge.demo_org import (
    MIS_SELLING_BRANCH,
    MIS_SELLING_CODES,
    PLANTED_AGENT,
    PLANTED_AGENT_CODES,
    TENANT,
    demo_conversations,
)


class DemoOrgReport(BaseModel):
    """What loading the demo organisation did."""

    tenant: str
    conversations: int
    evaluated: int  # newly evaluated in this run
    reused: int  # already in the store (a re-run)
    agents: int
    branches: int
    weeks: int
    planted_agent: str
    planted_agent_codes: list[str]
    mis_selling_branch: str
    mis_selling_codes: list[str]


def load_demo_org(
    settings: Settings, *, store: Store | None = None, console: Console | None = None, show_progress: bool = True
) -> DemoOrgReport:
    """Evaluate every demo call (rule tier; no citations, no LLM, so it is quick and the same everywhere) into
    the store; calls already evaluated under the same rule pack are reused, not counted twice."""
    own_store = store is None
    store = store or Store.from_url(settings.resolved_database_url)
    context = build_qm_context(settings, store=store)
    graph = build_graph()
    conversations = list(demo_conversations())
    reused = 0
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            disable=not show_progress,
            transient=True,
        ) as progress:
            task = progress.add_task("演示机构质检中 evaluating the demo organisation", total=len(conversations))
            for conversation in conversations:
                output = evaluate_conversation(graph, context, conversation)
                reused += bool(output.get("reused"))
                progress.advance(task)
    finally:
        if own_store:
            store.engine.dispose()
    weeks = Counter(c.started_at.isocalendar()[1] for c in conversations if c.started_at)
    return DemoOrgReport(
        tenant=TENANT,
        conversations=len(conversations),
        evaluated=len(conversations) - reused,
        reused=reused,
        agents=len({c.agent_id for c in conversations}),
        branches=len({c.branch for c in conversations}),
        weeks=len(weeks),
        planted_agent=PLANTED_AGENT,
        planted_agent_codes=list(PLANTED_AGENT_CODES),
        mis_selling_branch=MIS_SELLING_BRANCH,
        mis_selling_codes=list(MIS_SELLING_CODES),
    )
