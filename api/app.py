"""The FastAPI application: `create_app()`; resources live in the lifespan, not at import time."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from api import limits, problems
from api.routes import coach, evaluate, insight, jobs, records, reports, scorecards, system
from api.service import Service, jwt_secret
from api.worker import JobWorker
from core.settings import Settings
from graphs.supervisor import Evaluator, SupervisedSessions
from graphs.wiring import build_judge, build_qm_context, load_small_models, open_sqlite_checkpointer, open_store

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


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        judge = build_judge(settings, cache=store)
        context = build_qm_context(settings, store=store, judge=judge, small_models=load_small_models(settings))
        checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
        service = Service(
            settings=settings,
            store=store,
            context=context,
            evaluator=Evaluator.create(context, checkpointer=checkpointer),
            jwt_secret=jwt_secret(settings),
        )
        app.state.service = service
        if settings.citations:  # the corpus may need indexing (minutes on a cold start): never block start-up
            service.citations_status = "loading"
            threading.Thread(target=service.load_regulations, name="regulations", daemon=True).start()
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
            if judge is not None:
                judge.close()
            checkpointer.conn.close()
            if service.regulations is not None:
                service.regulations.client.close()  # embedded Qdrant holds a lock on its folder
            store.engine.dispose()

    app = FastAPI(
        title="Zhijian 智检 API",
        version="0.1.0",
        description="Quality management for financial contact centres: evaluate conversations, run batch jobs, "
        "read evaluations and tickets within your tenant and organisation.",
        lifespan=lifespan,
    )
    problems.install(app)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)  # body size is limited on the bytes received, by limits.BodyLimit
        response.headers["X-Request-ID"] = request_id
        log.info(
            "request",
            extra={
                "fields": {
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            },
        )
        return response

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
