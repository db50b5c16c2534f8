"""Typed state of the QM flow."""

from __future__ import annotations

from operator import add
from typing import Annotated, TypedDict

from core.models import Citation, Conversation, Evaluation, Finding, Ticket


def merge_timings(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {**left, **right}


class QMInput(TypedDict):
    conversation: Conversation


class QMOutput(TypedDict, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


class QMState(TypedDict, total=False):
    conversation: Conversation  # replaced by its redacted copy in `redact`
    content_hash: str
    pii: list[tuple[str, str, str]]  # (placeholder, kind, value); cleared once stored
    findings: Annotated[list[Finding], add]
    citations: dict[str, list[Citation]]  # rule id → clauses, attached to the findings by `score`
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool
    timings_ms: Annotated[dict[str, float], merge_timings]
