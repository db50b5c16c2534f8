"""The LLM customer (langchain-core fake chat models): in-character lines are used, lines in the agent's voice
or that fail to raise the objection are refused and the retrieval customer speaks instead."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from graphs.coach import PracticeSessions
from tests.coach.agents import GOOD
from tests.coach.conftest import Coaching, needs_shared_data

pytestmark = needs_shared_data


def _with_model(c: Coaching, *replies: str) -> PracticeSessions:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))
    context = dataclasses.replace(c.sessions.context, customer_model=model)
    return PracticeSessions(c.sessions.graph, context)


def test_an_in_character_model_line_is_said(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    sessions = _with_model(
        c,
        '{"line": "你好，我有二十万定期下个月到期，想看看有什么理财。"}',
        '```json\n{"line": "我先说清楚，这钱三个月后就要用，能随时取出来吗？"}\n```',
    )
    view = sessions.start(agent=org, profile=profile, started_by="t", rules=["WS-SUITABILITY-MISMATCH"])
    assert view.customer == "你好，我有二十万定期下个月到期，想看看有什么理财。"
    assert view.transcript[0].source == "llm" and not view.transcript[0].rejected
    view = sessions.say(view.session_id, GOOD["opening"])
    assert view.transcript[-1].source == "llm"
    assert view.transcript[-1].objection in ("liquidity_need", "low_risk_tolerance")


def test_a_line_in_the_agents_voice_is_refused(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    sessions = _with_model(
        c,
        '{"line": "您好，这里是安和银行客服中心，请问有什么可以为您服务的？"}',
        "坐席：好的，我建议您购买我行的稳健理财产品。",
    )
    view = sessions.start(agent=org, profile=profile, started_by="t", rules=["WS-NO-GUARANTEE"])
    first = view.transcript[0]
    assert first.source in ("retrieval", "script")
    assert first.rejected and "out of character" in first.rejected[0]
    assert "银行客服中心" not in first.text
    view = sessions.say(view.session_id, GOOD["opening"])
    second = view.transcript[-1]
    assert second.source != "llm" and "out of character" in second.rejected[0]
    assert second.objection == "asks_guarantee"


def test_a_model_line_that_does_not_raise_the_objection_is_refused(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    sessions = _with_model(c, '{"line": "你好，我想了解一下理财。"}', '{"line": "嗯嗯，那挺好的。"}', "not json {")
    view = sessions.start(agent=org, profile=profile, started_by="t", rules=["WS-NO-GUARANTEE"])
    assert view.transcript[0].source == "llm"
    view = sessions.say(view.session_id, GOOD["opening"])
    turn = view.transcript[-1]
    assert turn.source != "llm" and turn.rejected == ["does not raise the objection asks_guarantee"]
    assert "保" in turn.text or "亏" in turn.text or "风险" in turn.text
