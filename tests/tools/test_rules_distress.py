"""S02: an upset customer not acknowledged — intensity, handling and how the exchange ends."""

from __future__ import annotations

from core.models import Verdict
from core.scorecard import Scorecard
from tests.conftest import transcript
from tools.rules import RuleEngine


def _verdict(engine: RuleEngine, scorecard: Scorecard, text: str) -> Verdict:
    rule = scorecard.rule("SV-DISTRESS-ACKNOWLEDGE")
    return engine.evaluate_rule(rule, engine.prepare(transcript(text))[0]).verdict


def test_ordinary_upset_answered_by_handling_the_problem_passes(engine: RuleEngine, scorecard: Scorecard) -> None:
    text = (
        "客户：手机银行又登不上了，到底怎么回事啊！！！烦死了\n"
        "坐席：请您提供一下登录时的提示截图，我帮您核实处理。\n"
        "客户：好的，谢谢。"
    )
    assert _verdict(engine, scorecard, text) is Verdict.PASS


def test_upset_that_ends_calm_and_thankful_passes(engine: RuleEngine, scorecard: Scorecard) -> None:
    text = "客户：怎么又扣了我一笔钱，真是受不了！\n坐席：那笔是年费，上个月有短信提醒。\n客户：哦这样，知道了谢谢。"
    assert _verdict(engine, scorecard, text) is Verdict.PASS


def test_upset_ignored_and_ending_badly_fails(engine: RuleEngine, scorecard: Scorecard) -> None:
    text = "客户：你们这是什么破服务，我要投诉！\n坐席：请报一下您的卡号后四位。\n客户：算了。"
    assert _verdict(engine, scorecard, text) is Verdict.FAIL


def test_intense_anger_needs_more_than_a_next_step(engine: RuleEngine, scorecard: Scorecard) -> None:
    text = "客户：你们这群骗子，什么破银行，我要去投诉你们！\n坐席：您可以去网点办理。\n客户：你等着。"
    assert _verdict(engine, scorecard, text) is Verdict.FAIL
