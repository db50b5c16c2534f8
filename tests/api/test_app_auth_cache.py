"""Who a credential is, remembered briefly per process: fewer database lookups per request, revocation still
takes effect (within the cache's few seconds), unknown keys are never remembered, the cache is bounded."""

from __future__ import annotations

import time

import pytest

from api import deps as api_deps
from api.service import PrincipalCache
from core.access import AccessRole, Principal
from core.accounts import principal_for_api_key, revoke_api_key
from core.store import Store
from tests.api.conftest import Api


def test_a_key_is_looked_up_once_then_remembered(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []
    real = principal_for_api_key

    def counted(store: Store, key: str) -> Principal | None:
        lookups.append(key)
        return real(store, key)

    monkeypatch.setattr(api_deps, "principal_for_api_key", counted)
    for _ in range(3):
        assert api.client.get("/tickets", headers=api.headers("qa_sh")).status_code == 200
    assert len(lookups) == 1
    for _ in range(2):  # an unknown key is looked up every time: nothing to remember, nothing to flood
        assert api.client.get("/tickets", headers={"X-API-Key": "zj_nope"}).status_code == 401
    assert len(lookups) == 3


def test_a_revoked_key_is_refused_once_its_entry_expires(api: Api) -> None:
    service = api.client.app.state.service  # type: ignore[attr-defined]
    service.principals = PrincipalCache(ttl_s=0.3)
    headers = api.headers("qa_sh")
    assert api.client.get("/tickets", headers=headers).status_code == 200
    store = Store.from_url(api.settings.resolved_database_url)
    try:
        key_id = api.keys["qa_sh"].split("_")[1]
        assert revoke_api_key(store, f"k_{key_id}")
    finally:
        store.engine.dispose()
    time.sleep(0.4)
    refused = api.client.get("/tickets", headers=headers)
    assert refused.status_code == 401 and refused.json()["detail"] == "unknown API key"


def test_the_cache_is_bounded_and_keeps_no_secret() -> None:
    cache = PrincipalCache(ttl_s=60, max_entries=2)
    who = Principal(subject="key:k_1", tenant="bank-a", role=AccessRole.ADMIN)
    for n in range(3):
        assert cache.get("key", f"zj_secret_{n}", lambda: who) is who
    assert len(cache._entries) == 2
    assert not any("zj_secret" in key for key in cache._entries)
    calls: list[str] = []

    def lookup() -> Principal:
        calls.append("looked up")
        return who

    cache.get("key", "zj_secret_0", lookup)  # the oldest went out first: looked up again
    cache.get("key", "zj_secret_2", lookup)  # the newest stayed
    assert calls == ["looked up"]
