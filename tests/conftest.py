"""Shared fixtures: real objects (the packaged rule pack, a SQLite file in tmp_path, compiled graphs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.qm.context import QMContext
from core.models import Conversation
from core.scorecard import Scorecard
from core.settings import PACKAGED_RULE_PACK, Settings
from core.store import Store
from graphs.wiring import build_qm_context
from knowledge.rulepacks import load_scorecard
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.transcripts import parse_plain_transcript


@pytest.fixture(scope="session")
def scorer() -> DistressScorer:
    return DistressScorer()


@pytest.fixture(scope="session")
def scorecard() -> Scorecard:
    return load_scorecard(PACKAGED_RULE_PACK)


@pytest.fixture(scope="session")
def engine(scorecard: Scorecard, scorer: DistressScorer) -> RuleEngine:
    return RuleEngine(scorecard, scorer)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.from_url(settings.resolved_database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def qm_context(settings: Settings, store: Store, scorer: DistressScorer) -> QMContext:
    return build_qm_context(settings, store=store, scorer=scorer)


def transcript(text: str, conversation_id: str = "t1", **meta: object) -> Conversation:
    """A conversation from 坐席：/客户： lines (test helper)."""
    return parse_plain_transcript(text, conversation_id=conversation_id, **meta)
