from __future__ import annotations

import pytest

from tools.rules.matching import is_negated, is_reported


def _span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.mark.parametrize(
    ("text", "phrase", "negated"),
    [
        ("这款产品不保本", "保本", True),
        ("我们从来没有承诺保本", "保本", True),
        ("这个产品保本，您放心", "保本", False),
        ("稳赚不赔，这是不可能的", "稳赚不赔", True),
        ("你再不还我们就上门", "上门", False),  # a conditional threat, not a negation
        ("这个我非常理解", "理解", False),  # 非常 is not 非
        ("不过保本是肯定的", "保本", False),
    ],
)
def test_negation_is_clause_scoped(text: str, phrase: str, negated: bool) -> None:
    assert is_negated(text, *_span(text, phrase)) is negated


def test_reported_speech_and_echoed_questions() -> None:
    text = "稳赚不赔这个说法是不对的"
    assert is_reported(text, *_span(text, "稳赚不赔"), None)
    text = "您说的保本，其实是业绩比较基准"
    assert is_reported(text, *_span(text, "保本"), None)
    echo = "保本吗？我跟您解释一下"
    assert is_reported(echo, *_span(echo, "保本"), "这个产品保本吗？")
    assert not is_reported("这个产品保本", 4, 6, "这个产品保本吗？")
