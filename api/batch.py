"""Batch evaluation for the CLI: conversations streamed from files through the supervisor, spread over the
machine's cores, results yielded in input order as they finish (memory stays flat in the batch size)."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from agents.qm.context import QMContext
from core.errors import InputError, ZhijianError
from core.models import Conversation, Dimension, Evaluation, RiskLevel, Ticket
from core.settings import Settings
from graphs.supervisor import Evaluator
from graphs.wiring import open_store
from tools.citations import CitationTable
from tools.transcripts import expand_paths, read_path

CHUNK = 32  # conversations per task sent to a worker process
IN_PROCESS_UP_TO = 300  # fewer conversations than this are not worth starting worker processes for


@dataclass(frozen=True)
class Outcome:
    """One evaluated conversation as the CLI reports it: the public JSON line and a summary row."""

    json_line: str
    conversation_id: str
    agent_id: str | None
    scores: dict[Dimension, float]
    total: float
    risk_level: RiskLevel
    codes: tuple[str, ...]
    tickets: int
    reused: bool

    def evaluation(self) -> tuple[Evaluation, list[Ticket]]:
        """The full evaluation and tickets again (for detailed rendering)."""
        payload = json.loads(self.json_line)
        tickets = [Ticket.model_validate(t) for t in payload.pop("tickets", [])]
        return Evaluation.model_validate(payload), tickets


def evaluation_json(evaluation: Evaluation, tickets: list[Ticket]) -> str:
    """The public JSON line for pipelines: the evaluation plus its tickets."""
    payload = evaluation.model_dump(mode="json")
    payload["tickets"] = [t.model_dump(mode="json") for t in tickets]
    return json.dumps(payload, ensure_ascii=False)


def _outcome(evaluation: Evaluation, tickets: list[Ticket], reused: bool) -> Outcome:
    return Outcome(
        json_line=evaluation_json(evaluation, tickets),
        conversation_id=evaluation.conversation_id,
        agent_id=evaluation.agent_id,
        scores=dict(evaluation.scores),
        total=evaluation.total,
        risk_level=evaluation.risk_level,
        codes=tuple(dict.fromkeys(f.code for f in evaluation.failed)),
        tickets=len(tickets),
        reused=reused,
    )


Item = tuple[Conversation, str | None]  # a conversation as read, and its fingerprint when not the text's own


def read_conversations(
    paths: list[Path],
    settings: Settings,
    on_error: Callable[[InputError], None],
    *,
    transcribe: Callable[[Path], Item | None] | None = None,
) -> Iterator[Item]:
    """Conversations of every file and folder, one at a time; bad records go to `on_error` and are skipped.
    Recordings are transcribed by `transcribe` (which reports its own errors)."""
    from tools.asr import AUDIO_SUFFIXES

    audio = frozenset(AUDIO_SUFFIXES)
    for item in expand_paths(paths, also=audio):
        if isinstance(item, InputError):
            on_error(item)
            continue
        if item.suffix.lower() in audio:
            if transcribe is not None and (received := transcribe(item)) is not None:
                yield received
            continue
        for parsed in read_path(item, max_bytes=settings.max_file_bytes):
            if isinstance(parsed, InputError):
                on_error(parsed)
            elif len(parsed.turns) > settings.max_turns:
                on_error(
                    InputError(
                        f"conversation {parsed.id!r} has {len(parsed.turns)} turns, "
                        f"over the limit of {settings.max_turns} (ZHIJIAN_MAX_TURNS)",
                        source=str(item),
                    )
                )
            else:
                yield parsed, None


# A worker process builds its evaluator once (its own store connection, rule engine and tier-1 model, from the
# same settings) and keeps it for its lifetime. Workers are spawned, not forked: the parent may already run threads
# (progress bar, OpenMP in the embedding engine) that a forked child would inherit half-locked.
_worker_evaluator: Evaluator | None = None


def _start_worker(settings: Settings, citations: CitationTable | None, dry_run: bool) -> None:
    global _worker_evaluator
    from graphs.wiring import build_qm_context, load_small_models

    store = None if dry_run else open_store(settings)
    context = build_qm_context(settings, store=store, citations=citations, small_models=load_small_models(settings))
    _worker_evaluator = Evaluator.create(context)


def _evaluate_chunk(chunk: list[Item]) -> list[Outcome]:
    assert _worker_evaluator is not None, "worker process not initialised"
    return [_evaluate_one(_worker_evaluator, conversation, fingerprint) for conversation, fingerprint in chunk]


def _evaluate_one(evaluator: Evaluator, conversation: Conversation, fingerprint: str | None) -> Outcome:
    result = evaluator.evaluate(conversation, content_hash=fingerprint)
    return _outcome(result["evaluation"], result.get("tickets", []), result.get("reused", False))


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def worker_count(settings: Settings, context: QMContext) -> int:
    """Processes for a batch: one per core by default; one when an LLM is configured (it uses every core)."""
    if context.judge is not None:
        return 1
    return settings.workers or max(1, len(os.sched_getaffinity(0)))


def evaluate_stream(
    items: Iterable[Item], context: QMContext, settings: Settings, *, dry_run: bool
) -> Iterator[Outcome]:
    """Evaluate conversations in input order. A small batch is evaluated in this process; a larger one goes in
    chunks to one spawned process per core (each with its own database connection), at most two chunks per
    worker in flight, so memory stays flat however long the input is."""
    workers = worker_count(settings, context)
    stream = iter(items)
    head = list(islice(stream, IN_PROCESS_UP_TO))
    if workers == 1 or len(head) < IN_PROCESS_UP_TO:
        evaluator = Evaluator.create(context)
        for conversation, fingerprint in chain(head, stream):
            yield _evaluate_one(evaluator, conversation, fingerprint)
        return
    items = chain(head, stream)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(settings, context.citations, dry_run),
    )
    pending: deque[Future[list[Outcome]]] = deque()
    try:
        for chunk in _chunks(items, CHUNK):
            pending.append(pool.submit(_evaluate_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BrokenProcessPool:
        raise ZhijianError(
            "a worker process stopped abruptly (out of memory, or killed); "
            "what was written before this message is stored — run again to finish (done work is reused)"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
