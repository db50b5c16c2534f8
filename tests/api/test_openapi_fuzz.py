"""Schemathesis against the app's own OpenAPI: generated requests to every operation find no 5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from core.access import AccessRole
from core.accounts import create_api_key
from core.settings import Settings
from core.store import Store


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:  # the jobs body is JSON lines; send what was generated as text
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path) -> Iterator[tuple[FastAPI, TestClient, str]]:
    app_settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), regulations_dir=small_corpus, citations=True, job_workers=1
    )
    store = Store.from_url(app_settings.resolved_database_url)
    key = create_api_key(store, name="fuzz", tenant="bank-a", role=AccessRole.ADMIN)[1]
    store.engine.dispose()
    app = create_app(app_settings)
    with TestClient(app) as client:  # one lifespan for the whole run; every generated request goes through it
        for _ in range(1200):  # the corpus is indexed in the background; fuzz once clauses are ready
            if client.get("/readyz").json().get("citations") != "loading":
                break
            time.sleep(0.25)
        assert client.get("/readyz").json()["citations"] == "ready"
        yield app, client, key


def test_no_operation_answers_with_a_server_error(live: tuple[FastAPI, TestClient, str]) -> None:
    app, client, key = live
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers={"X-API-Key": key})
            kwargs.pop("allow_redirects", None)
            if not kwargs.get("cookies"):
                kwargs.pop("cookies", None)
            if isinstance(kwargs.get("data"), bytes | str):  # requests-style raw body → httpx's content
                kwargs["content"] = kwargs.pop("data")
            response = client.request(**kwargs)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

        run()
    assert operations == 27  # evaluate, jobs, records, scorecards, system, insight, reports, coach
    assert failures == []
