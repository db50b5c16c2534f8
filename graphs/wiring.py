"""Builds a QM run's context, checkpointer and regulation index from settings (CLI, API, benchmarks)."""

from __future__ import annotations

import sqlite3
from enum import Enum
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

import core.models as core_models
from agents.qm.context import QMContext
from core.embeddings import build_embedding
from core.llm import build_chat_model, model_label
from core.settings import Settings
from core.store import Store
from core.vectors import open_qdrant
from knowledge.regulations.ingest import IngestReport, Progress, ingest_corpus
from knowledge.rulepacks import load_scorecard
from prompts import load_prompt
from tools.asr import Transcriber, assemble_whisper_model
from tools.regulations import RegulationIndex
from tools.rules import RuleEngine
from tools.semantic import MemoryVerdictCache, SemanticJudge, VerdictCache
from tools.sentiment import DistressScorer
from tools.sparse import SparseEncoder
from tools.tickets import TicketPolicy


def build_qm_context(
    settings: Settings,
    *,
    store: Store | None,
    scorer: DistressScorer | None = None,
    regulations: RegulationIndex | None = None,
    judge: SemanticJudge | None = None,
) -> QMContext:
    """Load the configured rule pack and build the engine once; pass the result to every run."""
    scorecard = load_scorecard(settings.rule_pack)
    return QMContext(
        scorecard=scorecard,
        engine=RuleEngine(scorecard, scorer or DistressScorer()),
        ticket_policy=TicketPolicy(scorecard.thresholds, dict(settings.ticket_due_days)),
        store=store,
        regulations=regulations,
        judge=judge,
    )


def build_judge(settings: Settings, *, cache: VerdictCache | None) -> SemanticJudge | None:
    """The LLM tier the settings choose (None for llm_provider=none); verdicts cached in `cache` or in memory."""
    model = build_chat_model(settings)
    if model is None:
        return None
    return SemanticJudge(
        model,
        prompt=load_prompt("semantic_check", settings.prompt_language),
        model_name=model_label(model),
        cache=cache if cache is not None else MemoryVerdictCache(),
        window_turns=settings.llm_window_turns,
        timeout_s=settings.llm_timeout_s,
        max_concurrency=settings.llm_max_concurrency,
    )


def open_regulation_index(
    settings: Settings, *, progress: Progress | None = None
) -> tuple[RegulationIndex, IngestReport]:
    """The regulation index, brought in line with the corpus folder first (a no-op when nothing changed)."""
    index = RegulationIndex(open_qdrant(settings), build_embedding(settings), SparseEncoder())
    return index, ingest_corpus(index, settings.regulations_dir, progress=progress)


def checkpoint_serializer() -> JsonPlusSerializer:
    """Checkpoints may hold only our own state types: every pydantic model and enum of core.models, by name."""
    allowed = [
        ("core.models", name)
        for name, value in vars(core_models).items()
        if isinstance(value, type) and value.__module__ == "core.models" and issubclass(value, BaseModel | Enum)
    ]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def build_transcriber(settings: Settings) -> Transcriber:
    """faster-whisper with the configured model (default: the packaged Whisper base, assembled once)."""
    model_dir = settings.asr_model or assemble_whisper_model(settings.data_dir / "models")
    return Transcriber(model_dir, language=settings.asr_language or None, device=settings.asr_device)


def open_sqlite_checkpointer(path: Path) -> SqliteSaver:
    """LangGraph's SQLite saver on a file (created with its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False), serde=checkpoint_serializer())
