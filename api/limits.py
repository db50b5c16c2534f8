"""Bounded work per request: the body limit counted on the bytes actually received (chunked bodies too),
the per-turn and per-conversation limits at admission, and safe names for uploaded files.

`BodyLimit` is a pure ASGI middleware: it refuses a declared `Content-Length` over the limit before reading a
byte, and otherwise counts the `http.request` chunks as the application pulls them; the chunk that crosses the
limit raises `BodyTooLarge` (a 413) instead of being handed on, so nothing more is read or buffered.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

from core.models import Utterance

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class AdmissionLimits:
    """What one conversation may hold: turns per conversation and characters per turn."""

    max_turns: int
    max_turn_chars: int


# Set per request by `BodyLimit` (each request runs in its own context), read by the request schema's validator.
admission_limits: ContextVar[AdmissionLimits | None] = ContextVar("admission_limits", default=None)


class BodyTooLarge(HTTPException):
    """The request body crossed the configured limit; rendered as a 413 problem+json."""

    def __init__(self, limit: int, *, declared: int | None = None) -> None:
        what = f"a declared body of {declared} bytes" if declared is not None else "the body"
        super().__init__(413, f"{what} is over the limit of {limit} bytes (ZHIJIAN_MAX_REQUEST_BYTES)")


class TurnLimitExceeded(ValueError):
    """A conversation over the turn or turn-length limit (a ValueError, so pydantic reports it as a 422)."""


def check_turn_lengths(turns: Sequence[Utterance], limits: AdmissionLimits) -> None:
    """Refuse, naming the turn, a conversation with a turn longer than the limit."""
    for index, turn in enumerate(turns):
        text = turn.text
        if len(text) > limits.max_turn_chars:
            raise TurnLimitExceeded(
                f"turn {index} has {len(text)} characters, over the limit of {limits.max_turn_chars} "
                "(ZHIJIAN_MAX_TURN_CHARS)"
            )


def check_conversation(turns: Sequence[Utterance], limits: AdmissionLimits) -> None:
    """Refuse a conversation with too many turns or a turn that is too long (for callers outside the schema)."""
    if len(turns) > limits.max_turns:
        raise TurnLimitExceeded(
            f"{len(turns)} turns, over the limit of {limits.max_turns} turns per conversation (ZHIJIAN_MAX_TURNS)"
        )
    check_turn_lengths(turns, limits)


class BodyLimit:
    """ASGI middleware: 413 problem+json once a request body passes `max_bytes`, counted as it is received."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, limits: AdmissionLimits) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        admission_limits.set(self.limits)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(scope, send, BodyTooLarge(self.max_bytes, declared=declared))
            return
        received = 0
        exceeded: BodyTooLarge | None = None
        refused = started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded is not None:
                raise exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = BodyTooLarge(self.max_bytes)
                    raise exceeded
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body crossed the limit, whatever the app answers (a 400 "error parsing the body", a 500 from an
            # exception group) is replaced by the 413: the cause is the size, and it is the caller's to fix.
            nonlocal refused, started
            if exceeded is None or started:
                started = started or message["type"] == "http.response.start"
                await send(message)
            elif not refused:
                refused = True
                await _refuse(scope, send, exceeded)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if exceeded is None or started:
                raise
        if exceeded is not None and not refused and not started:
            await _refuse(scope, send, exceeded)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, send: Send, exc: HTTPException) -> None:
    request_id = (
        scope.get("state", {}).get("request_id")
        or next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
        or uuid.uuid4().hex  # refused before the request-context middleware gave it one
    )
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": exc.status_code,
            "detail": exc.detail,
            "instance": scope.get("path", ""),
            "request_id": request_id,
        },
        ensure_ascii=False,
    ).encode("utf-8")
    headers = [
        (b"content-type", PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_upload_name(filename: str | None, *, default: str = "recording.wav", max_chars: int = 120) -> str:
    """A file name safe to create in a temporary folder: no folders (`/`, `\\`), no `.`/`..`, no control
    characters, at most `max_chars` characters with the extension kept; `default` when nothing usable is left."""
    raw = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", raw).strip(" .")
    if not name:
        return default
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    suffix = f".{suffix}" if suffix else ""
    return (stem[: max_chars - len(suffix)] or "recording") + suffix


class LoginThrottle:
    """Attempts at POST /auth/token, limited per client address and per username (a moving window, in memory:
    per process, which is where the password hashing cost is paid)."""

    def __init__(self, rate: str = "10/minute") -> None:
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.rate = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, *, client: str, username: str) -> int | None:
        """Count one attempt; the seconds to wait when the client or the username is over the rate, else None."""
        keys = (("client", client), ("username", username.strip().lower()))
        allowed = [self._limiter.hit(self.rate, kind, value) for kind, value in keys]
        if all(allowed):
            return None
        resets = [self._limiter.get_window_stats(self.rate, kind, value).reset_time for kind, value in keys]
        return max(1, math.ceil(max(resets) - time.time()))


def install_rate_limit(app: FastAPI, rate: str = "10/minute") -> None:
    """Give the app its login throttle (read by the token route as `app.state.login_throttle`)."""
    app.state.login_throttle = LoginThrottle(rate)


class TooManyAttempts(HTTPException):
    """Over the sign-in rate: a 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429, f"too many sign-in attempts; retry in {retry_after} s", headers={"Retry-After": str(retry_after)}
        )


def known_query_only(request: Request) -> None:
    """A dependency: 422 naming every query parameter the route does not declare (a misspelt or unsupported
    filter such as `?agent_id=` must not be silently ignored and return everything)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter {name!r}; this endpoint accepts: {allowed}",
                    "input": request.query_params.get(name),
                }
                for name in unknown
            ]
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
