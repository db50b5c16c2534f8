from __future__ import annotations

import pytest

from core.models import Role
from core.scorecard import Matcher
from tests.conftest import transcript
from tools.rules.matching import is_negated, is_reported, matches
from tools.rules.scope import is_conditional


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
        # Without punctuation (ASR): idioms with a negator and clause cues end the scope.
        ("没问题保本的您就放心吧", "保本", False),
        ("没问题这个是保本的", "保本", False),
        ("不好意思这款是保本的", "保本", False),
        ("这款产品不保本但是收益稳定", "保本", True),
        ("这款不是存款但是保本的", "保本", False),
        ("保本是不可能的", "保本", True),
        ("保本是不可能的您放心", "保本", True),
        ("保本那是肯定的", "保本", False),
        ("我们不能保证收益", "保证收益", True),
        ("稳赚不赔这个说法是不对的", "稳赚不赔", True),
    ],
)
def test_negation_is_scoped_with_or_without_punctuation(text: str, phrase: str, negated: bool) -> None:
    assert is_negated(text, *_span(text, phrase)) is negated


@pytest.mark.parametrize(
    ("text", "phrase", "conditional"),
    [
        ("如果您想要保本的话可以选存款", "保本", True),
        ("要是保本的话收益就没这么高了", "保本", True),
        ("要是再不还就起诉你", "起诉你", False),
        ("这款产品保本的话您放心", "保本", False),  # no opener: 的话 alone is no condition
    ],
)
def test_a_match_inside_a_condition_is_a_hypothesis(text: str, phrase: str, conditional: bool) -> None:
    assert is_conditional(text, *_span(text, phrase)) is conditional


def test_reported_speech_and_echoed_questions() -> None:
    text = "稳赚不赔这个说法是不对的"
    assert is_reported(text, *_span(text, "稳赚不赔"), None)
    text = "您说的保本，其实是业绩比较基准"
    assert is_reported(text, *_span(text, "保本"), None)
    text = "您说的保本其实是业绩比较基准"  # the same without a comma
    assert is_reported(text, *_span(text, "保本"), None)
    echo = "保本吗？我跟您解释一下"
    assert is_reported(echo, *_span(echo, "保本"), "这个产品保本吗？")
    assert not is_reported("这个产品保本", 4, 6, "这个产品保本吗？")


def test_a_trigger_can_match_the_affirmative_or_the_negated_form() -> None:
    conversation = transcript("坐席：信用卡取现是没有手续费的。")
    aware = Matcher(patterns=["手续费"], role=Role.AGENT)
    literal = Matcher(patterns=["手续费"], role=Role.AGENT, negation_aware=False)
    assert matches(conversation, aware) == []  # "no fee" is not a fee being charged…
    assert [h.turn for h in matches(conversation, literal)] == [0]  # …but it is a statement about fees


def test_the_pattern_set_prefilter_finds_exactly_what_the_patterns_find() -> None:
    from tools.rules.matching import find_hits, pattern_set

    patterns = ["保本", "稳赚(不赔)?", "零风险"]
    call = transcript("坐席：这款产品保本，稳赚不赔。\n客户：真的吗？\n坐席：零风险的，放心。\n坐席：您好。")
    hits = find_hits(call, patterns, role=None)
    assert [(h.turn, h.start, h.end) for h in hits] == [(0, 4, 6), (0, 7, 11), (2, 0, 3)]
    prefilter = pattern_set(tuple(patterns))
    assert prefilter is not None and pattern_set(("保本",)) is None
    assert prefilter.matching("零风险，保本") == [0, 2] and prefilter.matching("您好") == []
    assert pattern_set(("a(", "b")) is None  # not combinable: each pattern is then tried alone (and fails loudly)


def test_the_pattern_set_never_skips_a_match_after_its_automaton_runs_out_of_room() -> None:
    """A long turn that makes the set's automaton visit more states than its memory holds (hostile text) still
    reports a pattern matching at its very end: in many-match mode RE2 resets its cache and goes on."""
    import random

    from tools.rules.matching import PatternSet

    spans = "[^。]{0,30}"
    patterns = [f"甲{spans}乙{spans}丙{spans}丁", "保本保息"]
    rng = random.Random(7)
    noise = "".join(rng.choice("甲乙丙戊己庚辛") for _ in range(10_000))  # no 丁: pattern 0 never completes
    small = PatternSet(patterns, max_mem=1 << 18)  # room for a few hundred states: the noise overflows it
    assert small.matching(noise + "保本保息") == [1]
    assert small.matching(noise + "甲乙丙丁") == [0]
