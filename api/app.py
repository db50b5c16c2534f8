"""The FastAPI application: `create_app()`; resources live in the lifespan, not at import time."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from api import limits, problems
from api.evaluators import EvaluatorPool
from api.routes import coach, evaluate, insight, jobs, records, reports, scorecards, system
from api.service import build_service
from api.worker import JobWorker
from core.settings import Settings
from graphs.supervisor import SupervisedSessions

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("zhijian.api")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False)


class RequestContext:
    """ASGI middleware: a request id (from X-Request-ID or new) on the request state and the response, and one access
    log line per request. Pure ASGI: Starlette's `BaseHTTPMiddleware` costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                fields = {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
                log.info("request", extra={"fields": fields})


def create_app(settings: Settings | None = None, *, start_worker: bool = True, evaluator_processes: int = 1) -> FastAPI:
    """The API. `evaluator_processes` > 1: evaluations run in that many worker processes (api/evaluators.py), this
    one serves HTTP; 1: everything in this process."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = build_service(settings)
        app.state.service = service
        if settings.citations:  # the corpus may need indexing (minutes on a cold start): never block start-up
            service.citations_status = "loading"
            threading.Thread(target=service.load_regulations, name="regulations", daemon=True).start()
        if evaluator_processes > 1:  # they start in the background; until ready, this process evaluates
            service.pool = EvaluatorPool(settings, evaluator_processes)
        app.state.coach = None  # practice sessions load an embedding model: made on first use (api/routes/coach.py)
        worker = JobWorker(service, threads=settings.job_workers)
        if start_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            coach: SupervisedSessions | None = app.state.coach
            if coach is not None:
                coach.close()
            service.stop()  # evaluator processes, judge, checkpointer, regulation index (embedded Qdrant locks it)
            service.store.engine.dispose()

    app = FastAPI(
        title="Zhijian 智检 API",
        version="0.1.0",
        description="Quality management for financial contact centres: evaluate conversations, run batch jobs, "
        "read evaluations and tickets within your tenant and organisation.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(RequestContext)  # body size is limited on the bytes received, by limits.BodyLimit (outside)
    app.add_middleware(
        limits.BodyLimit,
        max_bytes=settings.max_request_bytes,
        limits=limits.AdmissionLimits(max_turns=settings.max_turns, max_turn_chars=settings.max_turn_chars),
    )
    limits.install_rate_limit(app)

    for module in (evaluate, jobs, records, scorecards, system, insight, reports, coach):
        app.include_router(module.router)
    return app


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("zhijian")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
