"""POST /insight/ask and GET /reports/* through the real app (lifespan, keys, scope), and `zhijian ask` whose
thread memory survives between separate invocations (the checkpoint database on disk)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.routes.insight import insight_toolkit
from core.access import AccessRole
from core.accounts import create_api_key
from knowledge.demo_org import TENANT
from tests.insight.conftest import Demo


@pytest.fixture(scope="module")
def keys(demo: Demo) -> dict[str, str]:
    made = {}
    for name, org in (("sh", {"branch": "上海分行"}), ("bj", {"branch": "北京分行"})):
        made[name] = create_api_key(demo.store, name=f"insight-{name}", tenant=TENANT, role=AccessRole.QA_LEAD, **org)[
            1
        ]
    return made


@pytest.fixture
def client(demo: Demo) -> Iterator[TestClient]:
    app = create_app(demo.settings, start_worker=False)
    app.dependency_overrides[insight_toolkit] = lambda: demo.toolkit
    with TestClient(app) as test_client:
        yield test_client


def test_ask_over_http_with_scope_and_thread(client: TestClient, keys: dict[str, str], demo: Demo) -> None:
    sh = {"X-API-Key": keys["sh"]}
    response = client.post("/insight/ask", json={"question": "为什么17号坐席表现不好？", "thread_id": "h"}, headers=sh)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"question", "answer", "subject", "facts", "causes", "evidence", "tools", "thread_id"} <= body.keys()
    assert body["subject"] == {"kind": "agent", "id": "A017"} and body["thread_id"] == "h"
    branch_of = demo.branch_of()
    assert body["evidence"] and all(branch_of[e["conversation_id"]] == "上海分行" for e in body["evidence"])
    follow_up = client.post("/insight/ask", json={"question": "那他和团队平均比呢？", "thread_id": "h"}, headers=sh)
    assert follow_up.json()["subject"]["id"] == "A017"

    other = client.post(
        "/insight/ask", json={"question": "为什么17号坐席表现不好？"}, headers={"X-API-Key": keys["bj"]}
    )
    assert other.status_code == 200
    assert other.json()["facts"] == [] and other.json()["evidence"] == []
    # the same thread id of another caller is another thread
    bj_follow = client.post(
        "/insight/ask", json={"question": "那他和团队平均比呢？", "thread_id": "h"}, headers={"X-API-Key": keys["bj"]}
    )
    assert bj_follow.json()["subject"]["id"] != "A017"


def test_ask_needs_a_key(client: TestClient) -> None:
    response = client.post("/insight/ask", json={"question": "客户最关心什么"})
    assert response.status_code == 401 and response.headers["content-type"].startswith("application/problem+json")


def test_reports_over_http(client: TestClient, keys: dict[str, str]) -> None:
    sh, bj = {"X-API-Key": keys["sh"]}, {"X-API-Key": keys["bj"]}
    html = client.get("/reports/agent/A017", params={"format": "html"}, headers=sh)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "plotly-graph-div" in html.text
    assert client.get("/reports/agent/A017", headers=bj).status_code == 404
    team = client.get("/reports/team/财富营销组", headers=sh).json()
    assert {row["key"] for row in team["agents"]["rows"]} == {"A016", "A017", "A018"}
    demand = client.get("/reports/demand", params={"scenario": "wealth_sales"}, headers=sh)
    assert demand.status_code == 200 and demand.json()["needs"]["topics"]


def test_cli_thread_memory_across_invocations(demo: Demo, tmp_path: Path) -> None:
    from api.cli import app

    runner = CliRunner()
    common = ["--tenant", TENANT, "--data-dir", str(demo.settings.data_dir), "--thread", "cli-t", "--format", "json"]
    first = runner.invoke(app, ["ask", "为什么17号坐席表现不好？", *common])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["ask", "那他和团队平均比呢？", *common])
    assert second.exit_code == 0, second.output
    answer = json.loads(second.stdout.strip().splitlines()[-1])
    assert answer["subject"] == {"kind": "agent", "id": "A017"} and answer["intent"] == "agent_vs_team"

    out = tmp_path / "a017.html"
    report = runner.invoke(
        app,
        [
            "report",
            "agent",
            "A017",
            "--tenant",
            TENANT,
            "--data-dir",
            str(demo.settings.data_dir),
            "--format",
            "html",
            "--out",
            str(out),
        ],
    )
    assert report.exit_code == 0, report.output
    assert "plotly-graph-div" in out.read_text(encoding="utf-8")
