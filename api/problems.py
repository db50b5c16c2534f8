"""RFC 9457 problem+json for every error, with the request id and the offending fields.

Expected faults (bad input, limits, permissions) are 4xx with a detail a caller can act on; anything else is a
500 problem+json that names only the request id (the traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import InputError, RulePackError, ZhijianError

PROBLEM = "application/problem+json"


log = logging.getLogger("zhijian.api")

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem+json response carrying the request id."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    merged = dict(headers or {})
    if status == 401:
        merged.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=merged or None)


def _field_errors(errors: list[Any]) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "message": e["msg"]} for e in errors]


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on the app."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = TITLES.get(exc.status_code, "Error")
        return problem(request, exc.status_code, title, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(list(exc.errors()))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(request, 422, "Unprocessable Content", detail, errors=errors)

    @app.exception_handler(ValidationError)
    async def invalid_inside(request: Request, exc: ValidationError) -> JSONResponse:
        # A model built inside a route (e.g. from a transcribed recording) that fails validation.
        errors = _field_errors(list(exc.errors()))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(request, 422, "Unprocessable Content", detail, errors=errors)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return problem(request, 422, "Unprocessable Content", str(exc))

    @app.exception_handler(RulePackError)
    async def bad_pack(request: Request, exc: RulePackError) -> JSONResponse:
        return problem(request, 422, "Invalid rule pack", str(exc))

    @app.exception_handler(ZhijianError)
    async def unavailable(request: Request, exc: ZhijianError) -> JSONResponse:
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return problem(request, 503, "Service Unavailable", str(exc), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Registered on the server-error middleware: the client gets problem+json, never a traceback.
        request_id = getattr(request.state, "request_id", None)
        # One line here; the server itself logs the traceback of an unexpected error for the operator.
        log.error("unexpected error", extra={"fields": {"request_id": request_id, "error": type(exc).__name__}})
        detail = f"an unexpected error; quote request id {request_id} to the operator"
        return problem(request, 500, "Internal Server Error", detail)
