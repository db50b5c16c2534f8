"""A real app (lifespan, SQLite in tmp_path, job workers) with principals across tenants, branches and roles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.access import AccessRole
from core.accounts import create_api_key, create_user
from core.settings import Settings
from core.store import Store


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    settings: Settings

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


PRINCIPALS = {
    # name: (tenant, role, org scope)
    "admin_a": ("bank-a", AccessRole.ADMIN, {}),
    "qa_sh": ("bank-a", AccessRole.QA_LEAD, {"branch": "上海分行"}),
    "reviewer_bj": ("bank-a", AccessRole.REVIEWER, {"branch": "北京分行"}),
    "coach_sh": ("bank-a", AccessRole.COACH, {"branch": "上海分行"}),
    "agent_101": ("bank-a", AccessRole.AGENT, {"branch": "上海分行", "agent_id": "A101"}),
    "admin_b": ("bank-b", AccessRole.ADMIN, {}),
}


def call(cid: str, branch: str, agent: str, *, breach: bool = True) -> dict[str, object]:
    agent_line = "这款理财保本保收益，稳赚不赔。" if breach else "这款理财不保本，有亏损的可能。"
    return {
        "id": cid,
        "branch": branch,
        "agent_id": agent,
        "scenario": "wealth_sales",
        "turns": [
            {"role": "agent", "text": "您好，我是安和银行理财经理。", "start": 0.0, "end": 2.0},
            {"role": "customer", "text": "这个会亏吗？", "start": 2.5, "end": 4.0},
            {"role": "agent", "text": agent_line, "start": 4.5, "end": 8.0},
        ],
    }


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", citations=False, job_workers=1)
    store = Store.from_url(settings.resolved_database_url)
    keys = {}
    for name, (tenant, role, org) in PRINCIPALS.items():
        keys[name] = create_api_key(store, name=name, tenant=tenant, role=role, **org)[1]
    create_user(
        store,
        username="li.qa",
        password="correct horse battery",
        tenant="bank-a",
        role=AccessRole.QA_LEAD,
        branch="上海分行",
    )
    store.engine.dispose()
    with TestClient(create_app(settings)) as client:
        yield Api(client=client, keys=keys, settings=settings)
