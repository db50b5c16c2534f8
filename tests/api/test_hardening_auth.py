"""Sign-in attempts are rate-limited per client and per username (issue 11 row 15), answered as problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import Api

PROBLEM = "application/problem+json"


def _attempt(client: TestClient, username: str, password: str = "wrong password!") -> int:
    return client.post("/auth/token", data={"username": username, "password": password}).status_code


def test_the_eleventh_attempt_in_a_minute_is_429_with_retry_after(api: Api) -> None:
    statuses = [_attempt(api.client, "li.qa") for _ in range(10)]
    assert statuses == [401] * 10
    response = api.client.post("/auth/token", data={"username": "li.qa", "password": "correct horse battery"})
    assert response.status_code == 429 and response.headers["content-type"] == PROBLEM  # even the right password
    assert int(response.headers["Retry-After"]) > 0 and "too many sign-in attempts" in response.json()["detail"]
    assert _attempt(api.client, "someone.else") == 429  # the same client, another name: still limited


def test_a_username_is_limited_across_clients(api: Api) -> None:
    app = api.client.app
    for i in range(10):  # clients of the running app (no second lifespan), each from another address
        assert _attempt(TestClient(app, client=(f"10.0.0.{i}", 5000)), "li.qa") == 401
    fresh = TestClient(app, client=("10.0.1.1", 5000))
    assert _attempt(fresh, "li.qa") == 429  # a new address, the same username
    assert _attempt(fresh, "other.user") == 401  # the address itself is not limited


def test_signing_in_under_the_limit_works(api: Api) -> None:
    response = api.client.post("/auth/token", data={"username": "li.qa", "password": "correct horse battery"})
    assert response.status_code == 200 and response.json()["token_type"] == "bearer"
