"""Evaluations in worker processes, for `zhijian serve --workers N`: the server process parses HTTP, authenticates and
answers; the CPU-bound evaluation (redaction, 50-odd rules, tier 1, storing) runs in a pool of N processes.

Threads cannot do this: the evaluation is Python, and one process runs Python on one core at a time. Several uvicorn
processes on one port could, but each keeps the connections it accepted, so a few keep-alive clients load one process
and leave the other idle; a pool takes the next evaluation whichever process is free. Each worker builds its own
`Service` from the same settings (its own store connection, rule engine, tier-1 model and checkpointer) and cites from
the clause cache the server process writes (it alone opens the regulation index: embedded Qdrant allows one process).
Workers are forked from the batch's fork server (`api.batch_preload`), which loaded the models first.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from core.models import Conversation
from core.settings import Settings

if TYPE_CHECKING:
    from api.service import Service

log = logging.getLogger("zhijian.evaluators")

# The one Service of a worker process, built by `_start_worker` for the process's lifetime.
_worker_service: Service | None = None


def _start_worker(settings: Settings, server_pid: int) -> None:
    global _worker_service
    from api.service import build_service

    threading.Thread(target=_exit_with, args=(server_pid,), name="server-watch", daemon=True).start()
    _worker_service = build_service(settings, follow_clause_cache=True)


def _exit_with(server_pid: int, poll_s: float = 1.0) -> None:
    """End this worker when the server process is gone. A server killed with SIGKILL cannot shut its pool down, and
    its workers (children of the fork server, each holding a few hundred MB) would otherwise wait for work forever."""
    try:
        watched = os.pidfd_open(server_pid)  # readable once the process has exited (Linux 5.3+)
    except (AttributeError, OSError):
        watched = None
    if watched is not None:
        select.select([watched], [], [])
    else:
        while True:
            time.sleep(poll_s)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:  # exists, owned by someone else: the pid was reused, so the server is gone
                break
    os._exit(0)


def _worker_pid() -> int:
    return os.getpid()


def _evaluate(
    tenant: str,
    scorecard: str | None,
    conversation: Conversation,
    dry_run: bool,
    content_hash: str | None,
    received: bool,
) -> dict[str, Any]:
    assert _worker_service is not None, "worker process not initialised"
    from api.batch import evaluate_buffered

    evaluator = _worker_service.evaluator_for(tenant, scorecard, dry_run=dry_run)
    # Like a batch chunk of one: one query for an earlier evaluation, then one transaction for all the writes.
    [result] = evaluate_buffered(evaluator, [(conversation, content_hash)], received=received)
    return dict(result)


class EvaluatorPool:
    """N evaluating processes, started in the background; `status` says whether they are ready."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.status = "starting"  # starting | ready | failed: <reason>
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["api.batch_preload"])
        executor = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.settings, os.getpid()),
        )
        with self._lock:
            self._executor = executor
            self.status = "starting"
        threading.Thread(target=self._warm_up, args=(executor,), name="evaluators", daemon=True).start()

    def _warm_up(self, executor: ProcessPoolExecutor) -> None:
        """Start every process (each builds its Service) before the pool takes requests."""
        try:
            pids = {future.result() for future in [executor.submit(_worker_pid) for _ in range(self.processes * 4)]}
        except Exception as exc:  # e.g. a worker could not build its context: this process keeps evaluating
            log.exception("evaluator processes failed to start")
            self.status = f"failed: {type(exc).__name__}: {exc}"
            return
        log.info("evaluator processes ready", extra={"fields": {"pids": sorted(pids)}})
        self.status = "ready"

    def evaluate(
        self,
        tenant: str,
        scorecard: str | None,
        conversation: Conversation,
        *,
        dry_run: bool,
        content_hash: str | None,
        received: bool = False,
    ) -> dict[str, Any] | None:
        """The evaluation from a worker process; None when the pool is not ready (the caller evaluates itself)."""
        executor = self._executor
        if self.status != "ready" or executor is None:
            return None
        try:
            return executor.submit(_evaluate, tenant, scorecard, conversation, dry_run, content_hash, received).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): start a new pool, evaluate here meanwhile
            log.error("an evaluator process died; starting new ones")
            with self._lock:
                if self._executor is executor:
                    self.status = "starting"
                    executor.shutdown(wait=False, cancel_futures=True)
                    threading.Thread(target=self._start, name="evaluators-restart", daemon=True).start()
            return None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
