"""With a chat model configured: a tool-calling agent over the same tools, memory per thread, the caller's scope
injected, and never a number that no tool returned (tested with a scripted langchain-core fake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import Field

from agents.insight.grounding import allowed_numbers, canonical, ground
from core.access import AccessRole, Principal
from graphs.insight import ask, build_graph, build_insight_context
from knowledge.demo_org import TENANT
from tests.insight.conftest import Demo


class ScriptedToolModel(GenericFakeChatModel):
    """Replies from a script (tool calls included) and records what it was shown."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:  # type: ignore[override]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def _pct(rate: float) -> str:
    return f"{round(rate * 100, 1):g}%"


def test_tool_agent_answers_from_tools_with_scope_injected_and_numbers_grounded(demo: Demo) -> None:
    lead = Principal(subject="qa_sh", tenant=TENANT, role=AccessRole.QA_LEAD, branch="上海分行")
    profile = demo.toolkit.run("agent_profile", {"agent_id": "A017"}, lead)
    conversion = next(f for f in profile["facts"] if f["metric"] == "conversion")
    cause = profile["causes"][0]
    # a figure no tool returned (one that happens to match a rate of the demo data would rightly be kept)
    invented = next(n for n in ("97.7", "96.3", "94.1", "91.9") if canonical(n) not in allowed_numbers([profile]))
    model = ScriptedToolModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": "agent_profile",
                            # a model trying to widen its scope: ignored, the caller's principal is injected
                            "args": {"agent_id": "A017", "principal": {"tenant": "bank-z", "role": "admin"}},
                            "id": "call-1",
                        },
                        {"name": "drop_tables", "args": {}, "id": "call-2"},  # malformed: no such tool
                    ],
                ),
                AIMessage(
                    content=f"A017的转化率为{_pct(conversion['value'])}（n={conversion['n']}），团队为"
                    f"{_pct(conversion['baseline'])}（n={conversion['baseline_n']}）。主要原因是{cause['code']}，"
                    f"失败率{_pct(cause['rate'])}。另外有{invented}%的客户会投诉。"
                ),
                AIMessage(content=f"和团队相比，他的转化率低{_pct(conversion['baseline'])}。还有12345通电话。"),
            ]
        )
    )
    context = build_insight_context(demo.settings, demo.store, lead, toolkit=demo.toolkit, model=model)
    graph = build_graph(checkpointer=InMemorySaver())

    first = ask(graph, context, "为什么17号坐席表现不好？", thread="llm")
    assert first.intent == "llm" and first.subject.id == "A017"
    assert _pct(conversion["value"]) in first.answer and f"n={conversion['n']}" in first.answer
    assert invented not in first.answer and "[?]" in first.answer
    assert any(invented in note for note in first.notes)
    assert [t.name for t in first.tools] == ["agent_profile", "drop_tables"]
    assert first.tools[0].error is None and first.tools[1].error and "unknown insight tool" in first.tools[1].error
    assert first.facts and first.causes and first.evidence  # from the tool result, not from the model's text
    tool_messages = [m for m in model.seen[1] if isinstance(m, ToolMessage)]
    assert '"agent_id": "A017"' in str(tool_messages[0].content)

    second = ask(graph, context, "那他和团队平均比呢？", thread="llm")
    # memory: the model saw the first question, its tool calls and their results
    shown = model.seen[2]
    assert any("为什么17号坐席" in str(m.content) for m in shown)
    assert any(isinstance(m, ToolMessage) for m in shown)
    assert _pct(conversion["baseline"]) in second.answer  # a number an earlier tool in the thread returned
    assert "12345" not in second.answer
    state = graph.get_state({"configurable": {"thread_id": f"insight:{TENANT}:qa_sh:llm"}})
    assert len(state.values["messages"]) == 7  # human, ai(tool calls), 2 tool results, ai, human, ai


def test_grounding_keeps_tool_numbers_and_percentages_only() -> None:
    allowed = allowed_numbers([{"rate": 0.25, "n": 24, "id": "DB-A017-03", "week": "2026-10-05"}], ["17号坐席"])
    text, removed = ground("失败率25%（n=24），DB-A017-03，2026-10-05 那周；17号；另有 31.4% 与 88 通", allowed)
    assert removed == ["31.4", "88"]
    assert "25%" in text and "n=24" in text and "DB-A017-03" in text and "2026-10-05" in text
