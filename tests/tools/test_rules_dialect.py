"""The rules' Mandarin reading of regional speech: same length, only function words, evidence quoted as said."""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.dialect import mandarin_reading
from tools.rules import RuleEngine


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("我系客户经理", "我是客户经理"),
        ("佢唔喺屋企", "他不在屋企"),
        ("冇问题，唔该", "没问题，谢谢"),
        ("俺是他娘", "我是他娘"),
        ("系统升级，请联系客服，关系不大", "系统升级，请联系客服，关系不大"),  # Mandarin 系 untouched
    ],
)
def test_the_reading_replaces_function_words_only_and_keeps_the_length(said: str, read: str) -> None:
    assert mandarin_reading(said) == read and len(mandarin_reading(said)) == len(said)


def test_a_cantonese_denial_is_read_as_a_denial_and_a_promise_quoted_as_said(engine: RuleEngine) -> None:
    denial = transcript("客户：会唔会蚀本㗎？\n坐席：呢只基金冇保本嘅，净值会有上落。", scenario="wealth_sales")
    assert "C03" not in {f.code for f in engine.evaluate(denial) if f.verdict is Verdict.FAIL}
    promise = transcript("客户：会唔会蚀本㗎？\n坐席：佢系保本嘅，您放心。", scenario="wealth_sales")
    failed = [f for f in engine.evaluate(promise) if f.verdict is Verdict.FAIL and f.code == "C03"]
    assert failed and "佢系保本" in failed[0].evidence[0].quote  # the customer's words, not the reading


def test_a_relative_speaking_cantonese_is_a_third_party(engine: RuleEngine) -> None:
    text = "坐席：您好，请问系陈生吗？\n客户：唔系，我系佢老婆，佢返工未返。\n坐席：佢张信用卡已经逾期两个月。"
    assert "C01" not in {
        f.code for f in engine.evaluate(transcript(text, scenario="collection")) if f.verdict is Verdict.FAIL
    }
