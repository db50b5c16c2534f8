"""`zhijian serve --workers N`: evaluations in worker processes (api/evaluators.py). The same conversation sent to
several processes at once is evaluated once; jobs go through them too; /readyz says where evaluations run; an
evaluator process cites from the clause cache the server process writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.evaluators import EvaluatorPool
from api.service import build_service
from core.access import AccessRole
from core.accounts import create_api_key
from core.models import Citation
from core.settings import Settings
from core.store import Store
from graphs.wiring import citation_cache_path
from tests.api.conftest import call
from tools.citations import CitationTable


@pytest.fixture
def pooled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    """A server with two evaluator processes, ready; asserts afterwards that they did the evaluating."""
    from_pool: list[dict[str, object]] = []
    pool_evaluate = EvaluatorPool.evaluate

    def spied(self: EvaluatorPool, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        result = pool_evaluate(self, *args, **kwargs)
        if result is not None:
            from_pool.append(result)
        return result

    monkeypatch.setattr(EvaluatorPool, "evaluate", spied)
    settings = Settings(data_dir=tmp_path / "data", citations=False, job_workers=1)
    store = Store.from_url(settings.resolved_database_url)
    key = create_api_key(store, name="qa", tenant="bank-a", role=AccessRole.ADMIN)[1]
    store.engine.dispose()
    with TestClient(create_app(settings, evaluator_processes=2)) as client:
        deadline = time.monotonic() + 180  # each process imports the evaluation stack and builds its context
        while client.get("/readyz").json()["evaluators"] != "2 processes":
            assert time.monotonic() < deadline, client.get("/readyz").json()
            time.sleep(0.2)
        yield client, {"X-API-Key": key}, settings.data_dir / "zhijian.db"
    assert from_pool, "no evaluation ran in an evaluator process"


def test_same_conversation_across_processes_is_evaluated_once(pooled: tuple[TestClient, dict[str, str], Path]) -> None:
    client, headers, database = pooled
    with ThreadPoolExecutor(8) as threads:  # more requests at once than processes: both processes take some
        responses = list(
            threads.map(
                lambda _: client.post("/evaluate", json=call("twice", "上海分行", "A101"), headers=headers), range(8)
            )
        )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 1
    assert responses[0].json()["tickets"]
    with sqlite3.connect(database) as db:
        evaluations = db.execute("select count(*) from evaluations where conversation_id = 'twice'").fetchone()[0]
        tickets = db.execute("select count(*) from tickets").fetchone()[0]
    assert (evaluations, tickets) == (1, 1)


def test_jobs_and_dry_runs_through_the_processes(pooled: tuple[TestClient, dict[str, str], Path]) -> None:
    client, headers, database = pooled
    dry = client.post("/evaluate?dry_run=true", json=call("dry", "上海分行", "A101"), headers=headers)
    assert dry.status_code == 200 and dry.json()["total"] < 100
    body = "\n".join(json.dumps(call(f"job-{i}", "上海分行", "A101"), ensure_ascii=False) for i in range(6))
    job = client.post("/jobs", content=body.encode(), headers={**headers, "Content-Type": "application/x-ndjson"})
    assert job.status_code == 202
    deadline = time.monotonic() + 120
    while not (status := client.get(f"/jobs/{job.json()['job_id']}", headers=headers).json())["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["counts"]["done"] == 6
    with sqlite3.connect(database) as db:
        stored = db.execute("select count(*) from evaluations").fetchone()[0]
    assert stored == 6  # the dry run stored nothing


def test_readyz_without_evaluator_processes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", citations=False)
    with TestClient(create_app(settings, start_worker=False)) as client:
        assert client.get("/readyz").json()["evaluators"] == "in the server process"


def test_evaluator_process_cites_from_the_clause_cache(tmp_path: Path) -> None:
    """What an evaluator process does: it never opens the index; once the server process has written the clause
    cache of the configured pack, its evaluations carry those clauses."""
    settings = Settings(data_dir=tmp_path / "data", citations=True)
    service = build_service(settings, follow_clause_cache=True)
    try:
        assert service.citations_status == "loading" and service.context.citations is None
        card = service.context.scorecard
        clause = Citation(clause_id="商业银行法-第29条", title="商业银行法", article="第29条", text="…", source="rule")
        table = CitationTable(scorecard_version=card.version, by_rule={card.rules[0].id: [clause]}, retrieved={})
        table.save(citation_cache_path(settings, card))
        deadline = time.monotonic() + 30
        while service.citations_status != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert service.regulations is None  # never opened: the server process holds it
        assert service.context.citations is not None
        assert service.context.citations.for_rule(card.rules[0].id, None) == [clause]
    finally:
        service.stop()
        service.store.engine.dispose()


def test_an_evaluator_process_ends_when_the_server_is_killed() -> None:
    """A server killed with SIGKILL cannot stop its pool: each worker watches the server process and exits."""
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watcher = subprocess.Popen(
        [sys.executable, "-c", f"from api.evaluators import _exit_with; _exit_with({server.pid}); raise SystemExit(3)"]
    )
    try:
        time.sleep(0.5)
        assert watcher.poll() is None  # the server is alive: the worker stays
        server.kill()
        server.wait()
        assert watcher.wait(timeout=30) == 0  # left through os._exit(0), not past the watch
    finally:
        for process in (server, watcher):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_dead_evaluator_process_is_replaced(pooled: tuple[TestClient, dict[str, str], Path]) -> None:
    client, headers, _ = pooled
    service = client.app.state.service  # type: ignore[attr-defined]
    executor = service.pool._executor
    victim = executor.submit(os.getpid).result()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while executor._broken is False:  # the pool notices the death on its own thread
        assert time.monotonic() < deadline
        time.sleep(0.1)
    answered = client.post("/evaluate", json=call("after-death", "上海分行", "A101"), headers=headers)
    assert answered.status_code == 200  # evaluated here while new processes start
    deadline = time.monotonic() + 180
    while client.get("/readyz").json()["evaluators"] != "2 processes":
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.2)
    again = client.post("/evaluate", json=call("after-restart", "上海分行", "A101"), headers=headers)
    assert again.status_code == 200 and service.pool._executor is not executor
