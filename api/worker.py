"""Threads in the server process that evaluate queued job items until told to stop."""

from __future__ import annotations

import logging
import threading

from api.service import Service
from core.jobs import claim_next, fail_item, finish_item, requeue_interrupted

log = logging.getLogger("zhijian.jobs")


class JobWorker:
    def __init__(self, service: Service, *, threads: int, idle_wait_s: float = 0.2) -> None:
        self.service = service
        self.threads = threads
        self.idle_wait_s = idle_wait_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        resumed, dead = requeue_interrupted(self.service.store, max_attempts=self.service.settings.job_max_attempts)
        if resumed:
            log.info("resuming %d job items interrupted by a previous stop", resumed)
        if dead:
            log.warning("%d job items interrupted too often were dead-lettered", dead)
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"job-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def _run(self) -> None:
        store = self.service.store
        while not self._stop.is_set():
            try:
                claimed = claim_next(store)
            except Exception:  # e.g. the database is briefly unavailable: wait and try again, never die
                log.exception("claiming a job item failed")
                self._stop.wait(1)
                continue
            if claimed is None:
                self._stop.wait(self.idle_wait_s)
                continue
            item_id, conversation, content_hash, scorecard = claimed
            try:
                result = self.service.evaluate(
                    conversation.tenant, scorecard, conversation, content_hash=content_hash, received=True
                )
                finish_item(store, item_id, result["evaluation"].id)
            except Exception as exc:  # one bad item must not stop the worker; its error is kept on the item
                log.exception("job item %s failed", item_id)
                fail_item(
                    store, item_id, f"{type(exc).__name__}: {exc}", max_attempts=self.service.settings.job_max_attempts
                )
