"""The LLM path: a tool-calling agent over the insight tools, with the thread's earlier messages as memory.
The caller's scope is injected into every tool call; numbers in the final text that no tool returned are
removed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import ValidationError

from agents.insight.answer import InsightAnswer, Subject, ToolUse
from agents.insight.compose import ToolResult, structured
from agents.insight.grounding import allowed_numbers, ground
from agents.insight.planner import ToolCall
from core.access import Principal
from core.errors import ZhijianError
from prompts import load_prompt
from tools.insight.toolkit import InsightToolkit


@dataclass
class AgentTurn:
    """What one question added to the thread, and the tool runs behind the answer."""

    messages: list[BaseMessage] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    text: str = ""
    notes: list[str] = field(default_factory=list)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def run_tool_agent(
    model: BaseChatModel,
    toolkit: InsightToolkit,
    principal: Principal,
    history: list[BaseMessage],
    question: str,
    *,
    language: str = "zh",
    max_steps: int = 5,
) -> AgentTurn:
    """Let the model call tools (at most `max_steps` rounds) until it answers in text."""
    system, user = load_prompt("insight/agent", language).render(question=question)
    bound = model.bind_tools(toolkit.tools())
    turn = AgentTurn(messages=[HumanMessage(user)])
    for _ in range(max_steps):
        reply = bound.invoke([SystemMessage(system), *history, *turn.messages])
        turn.messages.append(reply)
        calls = reply.tool_calls if isinstance(reply, AIMessage) else []
        if not calls:
            turn.text = _text(reply)
            return turn
        for tool_call in calls:
            call = ToolCall(name=tool_call["name"], arguments=dict(tool_call["args"]))
            call.arguments.pop("principal", None)  # never the model's to set
            try:
                result: dict[str, Any] | None = toolkit.run(call.name, call.arguments, principal)
                error = None
            except (ZhijianError, KeyError, ValidationError, ValueError) as exc:
                result, error = None, str(exc)
            turn.results.append((call, result, error))
            content = json.dumps(result if result is not None else {"error": error}, ensure_ascii=False)
            turn.messages.append(
                ToolMessage(content=content, tool_call_id=tool_call["id"] or call.name, name=call.name)
            )
    turn.notes.append(f"the model was still calling tools after {max_steps} rounds; answer from the tool results")
    return turn


def answer_from_turn(
    question: str, turn: AgentTurn, history: list[BaseMessage], thread_id: str | None
) -> InsightAnswer:
    """The answer: the model's text with unsupported numbers removed, plus facts, causes and evidence from the
    tool results."""
    earlier = [_text(m) for m in history if isinstance(m, ToolMessage)]
    allowed = allowed_numbers([r for _, r, _ in turn.results if r is not None] + earlier, [question])
    text, removed = ground(turn.text, allowed)
    notes = list(turn.notes)
    if removed:
        notes.append(f"removed {len(removed)} number(s) that no tool returned: {', '.join(removed)}")
    facts, causes, evidence = structured(turn.results)
    subject = Subject(kind="scope")
    for call, result, _ in turn.results:
        if call.name == "agent_profile" and result is not None:
            subject = Subject(kind="agent", id=result["agent_id"])
            break
    return InsightAnswer(
        question=question,
        answer=text,
        intent="llm",
        subject=subject,
        facts=facts,
        causes=causes,
        evidence=evidence,
        tools=[ToolUse(name=c.name, arguments=c.arguments, error=e) for c, _, e in turn.results],
        thread_id=thread_id,
        notes=notes,
    )
