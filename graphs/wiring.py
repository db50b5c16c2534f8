"""Builds a QM run's context, checkpointer and regulation index from settings (CLI, API, benchmarks).

Heavy dependencies (Qdrant, LlamaIndex, the embedding model, Whisper, the LLM client, tier-1 models) are
imported only by the function that needs them, so a command that uses none of them starts fast.
"""

from __future__ import annotations

import hashlib
import sqlite3
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ZhijianError
from core.scorecard import Scorecard
from core.settings import Settings
from tools.citations import CitationTable

if TYPE_CHECKING:  # the evaluation stack too: a batch's parent process only reads citations and hands out work
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agents.qm.context import QMContext, SmallModels
    from core.store import Store
    from knowledge.regulations.ingest import IngestReport, Progress
    from tools.asr import Transcriber
    from tools.regulations import RegulationIndex
    from tools.semantic import SemanticJudge, VerdictCache
    from tools.sentiment import DistressScorer


class RegulationIndexBusy(ZhijianError):
    """The embedded regulation index is open in another process (e.g. a running server)."""


def open_store(settings: Settings) -> Store:
    """The operational store, with the PII vault encrypted by the key file in the data folder."""
    from core.store import Store

    return Store.from_url(settings.resolved_database_url, vault_key=settings.resolved_vault_key_path)


def build_qm_context(
    settings: Settings,
    *,
    store: Store | None,
    scorecard: Scorecard | None = None,
    scorer: DistressScorer | None = None,
    citations: CitationTable | None = None,
    judge: SemanticJudge | None = None,
    small_models: SmallModels | None = None,
) -> QMContext:
    """Load the configured rule pack (unless given) and build the engine once; pass the result to every run."""
    from agents.qm.context import QMContext
    from knowledge.rulepacks import load_scorecard
    from tools.rules import RuleEngine
    from tools.sentiment import DistressScorer
    from tools.tickets import TicketPolicy

    card = scorecard or load_scorecard(settings.rule_pack)
    return QMContext(
        scorecard=card,
        engine=RuleEngine(card, scorer or DistressScorer(), max_turn_chars=settings.max_turn_chars),
        ticket_policy=TicketPolicy(card.thresholds, dict(settings.ticket_due_days)),
        store=store,
        citations=citations,
        judge=judge,
        small_models=small_models,
    )


def load_small_models(settings: Settings) -> SmallModels | None:
    """Tier 1 as configured: the shipped model (default), another artifact, or none."""
    if not settings.small_models:
        return None
    from tools.small_model import SmallModelTier

    if settings.small_model_path is not None:
        model: SmallModels = SmallModelTier.load(settings.small_model_path)
    else:
        model = SmallModelTier.load_default()
    return model


def build_judge(settings: Settings, *, cache: VerdictCache | None) -> SemanticJudge | None:
    """The LLM tier the settings choose (None for llm_provider=none); verdicts cached in `cache` or in memory."""
    if settings.llm_provider == "none":
        return None
    from core.llm import build_chat_model, model_label
    from prompts import load_prompt
    from tools.semantic import MemoryVerdictCache, SemanticJudge
    from tools.semantic.thresholds import load_thresholds

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
        thresholds=load_thresholds(settings.llm_thresholds),
        structured_output=settings.llm_structured_output,
        logprobs=settings.llm_logprobs,
    )


def open_regulation_index(
    settings: Settings, *, progress: Progress | None = None
) -> tuple[RegulationIndex, IngestReport]:
    """The regulation index, brought in line with the corpus folder first (a no-op when nothing changed).

    Raises RegulationIndexBusy when the embedded index is held by another process."""
    from core.embeddings import build_embedding
    from core.vectors import VectorStoreBusy, open_qdrant
    from knowledge.regulations.ingest import ingest_corpus
    from tools.regulations import RegulationIndex
    from tools.sparse import SparseEncoder

    try:
        client = open_qdrant(settings)
    except VectorStoreBusy:
        raise RegulationIndexBusy(
            f"the regulation index in {settings.resolved_qdrant_path} is in use by another process "
            "(a running `zhijian serve`?): run with --no-citations, or point both at a Qdrant server "
            "with ZHIJIAN_QDRANT_URL"
        ) from None
    index = RegulationIndex(client, build_embedding(settings), SparseEncoder())
    return index, ingest_corpus(index, settings.regulations_dir, progress=progress)


def citation_cache_path(settings: Settings, scorecard: Scorecard) -> Path:
    """Where a scorecard's resolved clauses are kept: keyed by the pack's version, the corpus text, the embedding
    model and the index location, so any change resolves them again."""
    digest = hashlib.sha256()
    for part in (scorecard.version, settings.embedding_model, settings.qdrant_url or "embedded"):
        digest.update(part.encode("utf-8") + b"\0")
    for path in sorted(settings.regulations_dir.glob("*.md")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return settings.data_dir / "citations" / f"{scorecard.name}-{digest.hexdigest()[:16]}.json"


def resolve_citations(settings: Settings, scorecard: Scorecard, index: RegulationIndex) -> CitationTable:
    """The scorecard's clauses from an open index, through the on-disk cache (written on first resolution)."""
    from tools.citations import build_citation_table

    cache = citation_cache_path(settings, scorecard)
    if cache.exists():
        return CitationTable.load(cache)
    table = build_citation_table(index, scorecard)
    table.save(cache)
    return table


def citation_table(settings: Settings, scorecard: Scorecard, *, progress: Progress | None = None) -> CitationTable:
    """The scorecard's clauses: from the cache when this pack and corpus were resolved before (no index needed,
    so this works beside a server holding the embedded index), else from the index (ingesting the corpus on
    first use), then cached."""
    cache = citation_cache_path(settings, scorecard)
    if cache.exists():
        return CitationTable.load(cache)
    index, _ = open_regulation_index(settings, progress=progress)
    try:
        return resolve_citations(settings, scorecard, index)
    finally:
        index.client.close()  # embedded Qdrant locks its folder: release it for other processes


def checkpoint_serializer() -> JsonPlusSerializer:
    """Checkpoints may hold only our own state types: every pydantic model and enum of core.models, by name."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from pydantic import BaseModel

    import core.models as core_models

    allowed = [
        ("core.models", name)
        for name, value in vars(core_models).items()
        if isinstance(value, type) and value.__module__ == "core.models" and issubclass(value, BaseModel | Enum)
    ]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def build_transcriber(settings: Settings) -> Transcriber:
    """faster-whisper with the configured model (default: the packaged Whisper base, assembled once)."""
    from tools.asr import Transcriber, assemble_whisper_model

    model_dir = settings.asr_model or assemble_whisper_model(settings.data_dir / "models")
    return Transcriber(model_dir, language=settings.asr_language or None, device=settings.asr_device)


def open_sqlite_checkpointer(path: Path) -> SqliteSaver:
    """LangGraph's SQLite saver on a file (created with its folder, readable by its owner only)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    path.chmod(0o600)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False), serde=checkpoint_serializer())
