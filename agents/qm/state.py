"""Typed state of the QM flow.

Nodes return whole values (the findings list is replaced, never appended), so a node that runs twice —
a retry, a resumed run — cannot double anything. PII never enters this state: intake stores the vault.
"""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from core.models import Citation, Conversation, Evaluation, Finding, LlmUsage, Ticket


def merge_timings(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    """Per-node timings: a node that runs again overwrites its own entry."""
    return {**left, **right}


class QMInput(TypedDict):
    conversation: Conversation  # received: normalised and redacted (agents.qm.intake)
    content_hash: NotRequired[str]  # of the conversation as received; computed when missing


class QMOutput(TypedDict, total=False):
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool


class QMState(TypedDict, total=False):
    conversation: Conversation
    content_hash: str
    findings: list[Finding]  # one per rule: tier 0, then tier 1 in place
    llm_candidates: list[str]  # rule ids for the LLM tier: semantic rules that apply, uncertain failures
    llm_findings: dict[str, Finding]  # rule id → the LLM tier's finding, replacing the earlier tier's
    llm_usage: LlmUsage | None
    citations: dict[str, list[Citation]]  # rule id → clauses, attached to the findings by `score`
    evaluation: Evaluation
    tickets: list[Ticket]
    reused: bool
    timings_ms: Annotated[dict[str, float], merge_timings]


def current_findings(state: QMState) -> list[Finding]:
    """The findings with the LLM tier's verdicts in their place."""
    overrides = state.get("llm_findings", {})
    return [overrides.get(f.rule_id, f) for f in state.get("findings", [])]


class QMBatch(TypedDict, total=False):
    """Conversations of a batch without LLM work, each in the single-conversation flow's state (in order).

    `duplicates` names the conversations sent again within the batch (index → the earlier one's): they are reported
    as that one's evaluation, reused, as if submitted after it. `failure` is the error that stopped assessing at the
    next conversation: the ones before it are still recorded, then it is raised."""

    items: list[QMState]
    duplicates: dict[int, int]
    failure: BaseException | None
