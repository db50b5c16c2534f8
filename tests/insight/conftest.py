"""The demo organisation evaluated once per session into a real SQLite store, and the insight tools over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from core.access import AccessRole, Principal
from core.settings import Settings
from core.store import ConversationRow, Store
from graphs.insight import build_toolkit
from knowledge.demo_org import TENANT
from knowledge.demo_org.loader import DemoOrgReport, load_demo_org
from knowledge.splits import SHARED_DIALOGUES
from tools.insight.encoders import TfidfEncoder
from tools.insight.toolkit import InsightToolkit


@dataclass
class Demo:
    settings: Settings
    store: Store
    toolkit: InsightToolkit
    report: DemoOrgReport

    def branch_of(self) -> dict[str, str]:
        """Conversation id → branch, straight from the table (to check what a tool returned)."""
        return {cid: branch for cid, branch, _ in self._org()}

    def agent_of(self) -> dict[str, str]:
        """Conversation id → agent id, straight from the table."""
        return {cid: agent for cid, _, agent in self._org()}

    def _org(self) -> list[tuple[str, str, str]]:
        with self.store.session() as s:
            rows = s.execute(select(ConversationRow.external_id, ConversationRow.branch, ConversationRow.agent_id))
            return [(str(c), str(b), str(a)) for c, b, a in rows]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not (SHARED_DIALOGUES / "dev_labeled.jsonl").exists():
        pytest.skip(f"the shared labelled dialogues are not at {SHARED_DIALOGUES}")
    data_dir: Path = tmp_path_factory.mktemp("demo-org")
    settings = Settings(data_dir=data_dir, citations=False)
    store = Store.from_url(settings.resolved_database_url)
    report = load_demo_org(settings, store=store, show_progress=False)
    # TF-IDF keeps the tests quick; the packaged embedding model is measured in benchmarks/insight.py.
    toolkit = build_toolkit(settings, store, encoder=TfidfEncoder())
    yield Demo(settings=settings, store=store, toolkit=toolkit, report=report)
    store.engine.dispose()


@pytest.fixture
def lead() -> Principal:
    """A QA lead of the whole demo tenant."""
    return Principal(subject="lead", tenant=TENANT, role=AccessRole.QA_LEAD)
