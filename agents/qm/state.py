"""Typed state of the QM flow."""

from __future__ import annotations

from operator import add
from typing import Annotated, NotRequired, TypedDict

from core.models import Citation, Conversation, Evaluation, Finding, LlmUsage, Ticket


def merge_timings(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {**left, **right}


class QMInput(TypedDict):
    conversation: Conversation
    pii: NotRequired[list[tuple[str, str, str]]]  # vault entries of a conversation redacted before queueing


class QMOutput(TypedDict, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


class QMState(TypedDict, total=False):
    conversation: Conversation  # replaced by its redacted copy in `redact`
    content_hash: str
    pii: list[tuple[str, str, str]]  # (placeholder, kind, value); cleared once stored
    findings: Annotated[list[Finding], add]
    llm_candidates: list[str]  # rule ids for the LLM tier: semantic rules that apply, uncertain failures
    llm_findings: dict[str, Finding]  # rule id → the LLM tier's finding, replacing the rule tier's
    llm_usage: LlmUsage | None
    citations: dict[str, list[Citation]]  # rule id → clauses, attached to the findings by `score`
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool
    timings_ms: Annotated[dict[str, float], merge_timings]


def current_findings(state: QMState) -> list[Finding]:
    """The rule tier's findings with the LLM tier's verdicts in their place."""
    overrides = state.get("llm_findings", {})
    return [overrides.get(f.rule_id, f) for f in state.get("findings", [])]
