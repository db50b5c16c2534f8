"""Bounded work per request (issue 11 rows 3, 4, 12, 15): body limits on the bytes actually received, the turn-length
limit at admission, unknown filters, nested YAML and odd upload names, all answered as problem+json."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import AdmissionLimits, BodyLimit, safe_upload_name
from core.access import AccessRole
from core.accounts import create_api_key
from core.settings import Settings
from core.store import Store
from tests.api.conftest import Api, call

PROBLEM = "application/problem+json"


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Api]:
    """The real app with small limits: 64 KiB bodies, 2,000-character turns."""
    settings = Settings(
        data_dir=tmp_path / "data", citations=False, job_workers=1, max_request_bytes=64 * 1024, max_turn_chars=2000
    )
    store = Store.from_url(settings.resolved_database_url)
    key = create_api_key(store, name="qa", tenant="bank-a", role=AccessRole.QA_LEAD)[1]
    admin = create_api_key(store, name="admin", tenant="bank-a", role=AccessRole.ADMIN)[1]
    store.engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client=client, keys={"qa": key, "admin": admin}, settings=settings)


def _chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_a_chunked_body_over_the_limit_is_413_problem_json(small: Api) -> None:
    body = json.dumps(call("c-1", "上海分行", "A101")).encode()
    padded = iter([body, *_chunks(100 * 1024)])  # valid JSON followed by 100 KiB of whitespace, no Content-Length
    for path in ("/evaluate", "/jobs", "/scorecards"):
        response = small.client.post(
            path,
            content=padded if path == "/evaluate" else _chunks(100 * 1024),
            headers={**small.headers("admin"), "Content-Type": "application/json"},
        )
        assert "content-length" not in response.request.headers  # really chunked
        assert response.status_code == 413, (path, response.text)
        assert response.headers["content-type"] == PROBLEM and "ZHIJIAN_MAX_REQUEST_BYTES" in response.json()["detail"]
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
    under = small.client.post(
        "/evaluate", content=iter([body, b"  "]), headers={**small.headers("qa"), "Content-Type": "application/json"}
    )
    assert under.status_code == 200, under.text


def test_the_middleware_stops_reading_a_body_that_never_ends(small: Api) -> None:
    """At the ASGI level, against the real app: the limit stops the reading, memory does not follow the body."""
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > 10_000:  # 80 MB: the test fails rather than hang when nothing stops the reading
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b" " * 8192, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/evaluate",
        "raw_path": b"/evaluate",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"content-type", b"application/json"), (b"x-api-key", small.keys["qa"].encode())],
    }
    asyncio.run(small.client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert pulled <= 64 * 1024 // 8192 + 1  # stopped at the chunk that crossed 64 KiB


def test_body_limit_alone_counts_received_bytes() -> None:
    """The middleware around a plain ASGI reader: a declared length over the limit is refused unread."""
    reads: list[int] = []

    async def reader(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            reads.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = BodyLimit(reader, max_bytes=100, limits=AdmissionLimits(max_turns=10, max_turn_chars=10))
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def never() -> dict[str, Any]:
        raise AssertionError("a body declared too large must not be read")

    declared = {"type": "http", "path": "/x", "headers": [(b"content-length", b"1000")]}
    asyncio.run(app(declared, never, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413 and reads == []
    sent.clear()
    chunks = iter([b"x" * 60, b"x" * 30])

    async def small_body() -> dict[str, Any]:
        chunk = next(chunks)
        return {"type": "http.request", "body": chunk, "more_body": len(chunk) == 60}

    asyncio.run(app({"type": "http", "path": "/x", "headers": []}, small_body, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 200 and reads == [60, 30]


def test_a_turn_over_the_length_limit_is_refused_naming_the_turn(small: Api) -> None:
    long_turn = call("c-long", "上海分行", "A101")
    long_turn["turns"][2]["text"] = "保本稳赚" * 600  # type: ignore[index]  # 2,400 characters
    response = small.client.post("/evaluate", json=long_turn, headers=small.headers("qa"))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert "turn 2 has 2400 characters" in response.json()["detail"] and "ZHIJIAN_MAX_TURN_CHARS" in response.text
    lines = [json.dumps(call("ok", "上海分行", "A101")), json.dumps(long_turn, ensure_ascii=False)]
    job = small.client.post("/jobs", content="\n".join(lines).encode(), headers=small.headers("qa"))
    assert job.status_code == 202 and job.json()["accepted"] == 1
    assert "turn 2 has 2400 characters" in job.json()["rejected"][0]["error"]


def test_unknown_query_parameters_are_named(small: Api) -> None:
    response = small.client.get("/tickets?agent_id=A101&status=open&colour=red", headers=small.headers("qa"))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["query.agent_id", "query.colour"] and "status" in response.json()["errors"][0]["message"]
    assert small.client.get("/conversations?limt=5", headers=small.headers("qa")).status_code == 422
    assert small.client.get("/tickets?status=open&limit=5", headers=small.headers("qa")).status_code == 200


def test_deeply_nested_yaml_is_a_422_not_a_500(api: Api) -> None:
    headers = {**api.headers("admin_a"), "Content-Type": "application/yaml"}
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(1500)) + "  " * 1500 + "v\n"
    for source in ("[" * 5000 + "]" * 5000, "rules: " + "{a: " * 3000 + "1" + "}" * 3000, block):
        response = api.client.post("/scorecards", content=source.encode(), headers=headers)
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
        assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("name", ["..", ".", "x" * 300, "..\\..\\evil.wav", "a\\b.wav"])
def test_odd_upload_names_never_give_a_plain_500_or_the_temp_path(small: Api, name: str) -> None:
    response = small.client.post(
        "/evaluate/recording",
        files={"recording": (name, b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64), "audio/wav")},
        headers=small.headers("qa"),
    )
    assert response.status_code != 200 and response.headers["content-type"] == PROBLEM
    assert "/tmp" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("..", "recording.wav"),
        (".", "recording.wav"),
        ("", "recording.wav"),
        (None, "recording.wav"),
        ("..\\..\\evil.wav", "evil.wav"),
        ("C:\\calls\\a b.wav", "a b.wav"),
        ("../../etc/passwd", "passwd"),
        ("call\x00.wav", "call_.wav"),
        ("通话录音.mp3", "通话录音.mp3"),
    ],
)
def test_safe_upload_names(given: str | None, expected: str) -> None:
    assert safe_upload_name(given) == expected


def test_a_long_upload_name_keeps_its_extension() -> None:
    name = safe_upload_name("x" * 300 + ".ogg")
    assert len(name) == 120 and name.endswith(".ogg")
