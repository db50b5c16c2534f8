"""Nodes of the insight flow: receive → (plan_question → run_tools → compose) | tool_agent."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.runtime import Runtime
from pydantic import ValidationError

from agents.insight.answer import Subject
from agents.insight.compose import ToolResult, compose_answer
from agents.insight.context import InsightContext
from agents.insight.planner import Plan, ToolCall, plan
from agents.insight.state import InsightState
from agents.insight.tool_agent import answer_from_turn, run_tool_agent
from core.errors import ZhijianError


def receive(state: InsightState, runtime: Runtime[InsightContext]) -> dict[str, Any]:
    """Note which path answers: the tool-calling model when one is configured, else the planner."""
    return {"mode": "llm" if runtime.context.model is not None else "planner"}


def route_after_receive(state: InsightState) -> Literal["tool_agent", "plan_question"]:
    return "tool_agent" if state.get("mode") == "llm" else "plan_question"


def plan_question(state: InsightState) -> dict[str, Any]:
    """Recognise the question type and subject (follow-ups use the thread's last subject)."""
    last = state.get("last_subject")
    intent = state.get("last_intent")
    chosen = plan(state["question"], Subject.model_validate(last) if last else None, intent)  # type: ignore[arg-type]
    return {"plan": chosen.model_dump(mode="json")}


def run_tools(state: InsightState, runtime: Runtime[InsightContext]) -> dict[str, Any]:
    """Run the planned tools with the caller's scope injected."""
    context = runtime.context
    runs: list[dict[str, Any]] = []
    for call in Plan.model_validate(state["plan"]).calls:
        try:
            result = context.toolkit.run(call.name, call.arguments, context.principal)
            runs.append({"call": call.model_dump(mode="json"), "result": result, "error": None})
        except (ZhijianError, ValidationError, ValueError) as exc:
            runs.append({"call": call.model_dump(mode="json"), "result": None, "error": str(exc)})
    return {"results": runs}


def compose(state: InsightState, runtime: Runtime[InsightContext]) -> dict[str, Any]:
    """Write the answer from the tool results; remember the subject for follow-ups."""
    chosen = Plan.model_validate(state["plan"])
    results: list[ToolResult] = [
        (ToolCall.model_validate(r["call"]), r["result"], r["error"]) for r in state.get("results", [])
    ]
    answer = compose_answer(state["question"], chosen, results, runtime.context.thread_id)
    remembered = chosen.subject if chosen.subject.kind == "agent" and "," not in (chosen.subject.id or "") else None
    update: dict[str, Any] = {
        "answer": answer.model_dump(mode="json"),
        "last_subject": remembered.model_dump(mode="json") if remembered else state.get("last_subject"),
        "last_intent": chosen.intent,
        "messages": [HumanMessage(state["question"]), AIMessage(answer.answer)],
    }
    return update


def tool_agent(state: InsightState, runtime: Runtime[InsightContext]) -> dict[str, Any]:
    """The LLM path: tool calls with the thread's messages as memory, then a grounded answer."""
    context = runtime.context
    assert context.model is not None  # routed here only with a model
    history: list[BaseMessage] = list(state.get("messages", []))
    turn = run_tool_agent(
        context.model,
        context.toolkit,
        context.principal,
        history,
        state["question"],
        language=context.prompt_language,
        max_steps=context.max_steps,
    )
    answer = answer_from_turn(state["question"], turn, history, context.thread_id)
    return {
        "answer": answer.model_dump(mode="json"),
        "last_subject": answer.subject.model_dump(mode="json")
        if answer.subject.kind == "agent"
        else state.get("last_subject"),
        "last_intent": "llm",
        "messages": turn.messages,
    }
