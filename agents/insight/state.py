"""Typed state of the insight flow; kept to plain JSON values and messages so checkpoints stay portable."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class InsightInput(TypedDict):
    question: str


class InsightOutput(TypedDict, total=False):
    answer: dict[str, Any]  # an InsightAnswer as JSON


class InsightState(TypedDict, total=False):
    question: str
    mode: str  # "planner" or "llm"
    messages: Annotated[list[AnyMessage], add_messages]  # the thread's conversation, kept across questions
    last_subject: dict[str, Any] | None  # the subject of the previous answer, for follow-ups ("那他…")
    last_intent: str | None
    plan: dict[str, Any]
    results: list[dict[str, Any]]  # this question's tool runs: {"call", "result", "error"}
    answer: dict[str, Any]
