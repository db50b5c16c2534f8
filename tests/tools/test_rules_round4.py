"""Round 4 of the rule tier's precision work: clean near misses that quote, question or hypothesise a bad phrase.

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from core.scorecard import Scorecard
from knowledge.rulepacks import load_scorecard
from tests.tools.rule_cases import PACK
from tests.tools.rule_cases import rule_verdict as _verdict
from tools.rules import RuleEngine
from tools.rules.scope import is_negated, is_questioned, is_quoted_away
from tools.sentiment import DistressScorer


@pytest.fixture(scope="module")
def card() -> Scorecard:
    return load_scorecard(PACK)


@pytest.fixture(scope="module")
def engine(card: Scorecard) -> RuleEngine:
    return RuleEngine(card, DistressScorer())


def _span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


# ── quotation scope: a quoted phrase attributed to someone else, or corrected right after ──


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("之前那位专员说的“稳拿收益”，这个讲法站不住", "稳拿收益"),  # corrected after the quote
        ("「一定放款」「我担保」这类话谁都担保不了", "一定放款"),  # a run of quotes, then a denial
        ("网点的人讲「保本保息」，不是这样的，它是净值型", "保本保息"),
        ("隔壁柜台的小李喊着“去找你们行长”，吓了我一跳", "去找你们行长"),  # attributed to a third party
    ],
)
def test_a_quoted_phrase_reported_or_corrected_is_not_said(text: str, phrase: str) -> None:
    assert is_quoted_away(text, *_span(text, phrase))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("这款是“保本保息”的，您放心买", "保本保息"),  # quotes for emphasis, then affirmed
        ("我跟您说“保本保息”，错不了", "保本保息"),  # the speaker's own words
        ("我说“再不处理我就去找监管”", "去找监管"),  # the customer quoting their own threat
    ],
)
def test_a_quoted_phrase_the_speaker_stands_by_is_said(text: str, phrase: str) -> None:
    assert not is_quoted_away(text, *_span(text, phrase))


def test_a_refused_quoted_promise_is_no_commitment(engine: RuleEngine) -> None:
    transcript = "客户：朋友说你们这儿肯定能批下来。\n坐席：“肯定能批”这种保证我们谁都给不了您，要看审批结果。\n"
    assert _verdict(engine, "AU-BEYOND-AUTHORITY", transcript, "loan") is Verdict.PASS
    plain = "客户：能批吗？\n坐席：您这条件肯定能批，放心。\n"
    assert _verdict(engine, "AU-BEYOND-AUTHORITY", plain, "loan") is Verdict.FAIL


def test_a_customer_quoting_a_collector_threat_is_no_escalation(engine: RuleEngine) -> None:
    transcript = "客户：前天有个催收员喊“再拖我就去找你们领导”，我听着很不舒服。\n坐席：这种做法不对，我给您登记。\n"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript, "complaint") is Verdict.PASS
    own = "客户：你们再这样我就去找你们主管！\n坐席：您别急。\n"
    assert _verdict(engine, "XP-ESCALATION-THREAT", own, "complaint") is Verdict.FAIL


# ── questions: asking whether someone promised is not promising ──


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("办理时客户经理是否讲过本金保本", "保本"),
        ("当时有没有谁对您提过稳赚这个字眼", "稳赚"),
    ],
)
def test_a_question_about_a_promise_is_not_one(text: str, phrase: str) -> None:
    assert is_questioned(text, *_span(text, phrase))
    assert not is_questioned("这款产品保本，收益也稳", *_span("这款产品保本，收益也稳", "保本"))


def test_a_callback_asking_about_a_guarantee_passes(engine: RuleEngine) -> None:
    transcript = "坐席：第三个问题，签约那天业务员是否对您表示过这款理财保本？\n客户：没有。\n"
    assert _verdict(engine, "WS-NO-GUARANTEE", transcript, "callback") is Verdict.PASS


# ── negators that read as "not meaning to" / "no need to" ──


def test_not_meaning_to_complain_is_no_threat(engine: RuleEngine) -> None:
    transcript = "客户：我就是随口问问，我不是要去投诉你们，别紧张。\n坐席：好的。\n"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript, "service") is Verdict.PASS


def test_no_need_to_give_a_code_is_not_asking_for_it() -> None:
    text = "整个流程您都不需要告诉我短信里的验证码"
    assert is_negated(text, *_span(text, "告诉我短信里的验证码"))
    plain = "麻烦您告诉我短信里的验证码"
    assert not is_negated(plain, *_span(plain, "告诉我短信里的验证码"))


def test_a_negated_request_to_read_out_a_number(engine: RuleEngine) -> None:
    transcript = "坐席：为了安全，请别在电话里念您完整的身份证号，后四位就够了。\n客户：好。\n"
    assert _verdict(engine, "PR-NO-FULL-NUMBER", transcript, "service") is Verdict.PASS


# ── call-back answers that echo the question are confirmations, not corrections ──


def test_an_answer_echoing_the_question_is_no_contradiction(engine: RuleEngine) -> None:
    transcript = (
        "坐席：跟您核对一下，下单是您自己定的，您侄子只是帮您填了表，对吗？\n"
        "客户：对的，主意是我拿的，侄子帮我填的表。\n"
        "坐席：好的，下一个问题，您知道这款产品的风险等级吗？\n"
        "客户：知道，中低风险。\n"
    )
    assert _verdict(engine, "CB-ANSWER-CONSISTENCY", transcript, "callback") is Verdict.PASS
    contradicted = (
        "坐席：这笔是您本人操作购买的吗？\n"
        "客户：是的，哦不过其实是我侄子帮我买的。\n"
        "坐席：好的，下一个问题，您知道这款产品的风险等级吗？\n"
        "客户：知道。\n"
    )
    assert _verdict(engine, "CB-ANSWER-CONSISTENCY", contradicted, "callback") is Verdict.FAIL


# ── Tianjin 介 = 这: "介话" after a quote is "这话", the reporting cue ──


def test_tianjin_this_reads_as_mandarin() -> None:
    from tools.dialect import mandarin_reading

    assert mandarin_reading("介个事儿您甭着急，介么办就行") == "这个事儿您别着急，这么办就行"
    assert mandarin_reading("我给您介绍一下中介费") == "我给您介绍一下中介费"
