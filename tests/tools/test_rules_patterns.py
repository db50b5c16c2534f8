"""The pattern classes of issue 9: paraphrases that were missed and look-alikes that raised false alarms.

Each case is written the way another writer (or a recogniser, without punctuation) would say it, not copied from
the labelled sets.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.rules import RuleEngine


def _failed_codes(engine: RuleEngine, text: str, scenario: str) -> set[str]:
    findings = engine.evaluate(transcript(text, scenario=scenario))
    return {f.code for f in findings if f.verdict is Verdict.FAIL}


MISSED = [
    ("wealth_sales", "坐席：您放心，本金是一分都不会少的。", "C03"),
    ("wealth_sales", "坐席：这个收益是有保证的，到期就给您。", "C03"),
    ("wealth_sales", "坐席：这款亏钱的概率基本为零。", "C03"),
    ("wealth_sales", "坐席：没问题保本的您就放心吧", "C03"),  # ASR: no punctuation
    ("collection", "坐席：你再拖着不还，我让你全家都知道你欠钱不还。", "C09"),
    ("collection", "坐席：今天不还晚上就去你家里找你。", "C09"),
    ("service", "坐席：您把短信里的六位数字念给我，我帮您操作。", "C08"),
    ("loan", "坐席：这个额度我这边给你弄下来没问题。", "C12"),
    ("service", "坐席：我说了三遍了，你到底听没听明白？", "S01"),
    ("service", "坐席：您好，安和银行。\n客户：我查一下卡里还有多少钱。\n坐席：您卡里还有三千二百元。", "C01"),
]


@pytest.mark.parametrize(("scenario", "text", "code"), MISSED)
def test_paraphrases_are_caught(engine: RuleEngine, scenario: str, text: str, code: str) -> None:
    assert code in _failed_codes(engine, text, scenario)


FALSE_ALARMS = [
    (
        "service",
        "坐席：您好，安和银行。\n客户：我想查余额。\n坐席：麻烦报一下证件尾号。\n客户：3321。\n"
        "坐席：好的，您的余额是三千二百元。",
        "C01",
    ),
    (
        "wealth_sales",
        "坐席：给您介绍一款基金产品，价格会有涨有跌，最差的情况本金也会缩水。\n客户：明白。",
        "C02",
    ),
    ("service", "客户：这笔转账是我个人行为，跟别人没关系。", "X01"),
    ("service", "客户：我在法院上班，中午才有空。", "X01"),
    ("service", "客户：我是律师，帮当事人问一下流程。", "X01"),
    ("wealth_sales", "坐席：这款产品不保本但是风险等级R2", "C03"),
    ("wealth_sales", "坐席：保本是不可能的您要考虑清楚风险等级R3", "C03"),
    (
        "service",
        "坐席：资金都是您本人的吗？\n客户：是的，转账是我个人行为，我朋友只是陪我来的。\n坐席：好的。",
        "C11",
    ),
]


@pytest.mark.parametrize(("scenario", "text", "code"), FALSE_ALARMS)
def test_look_alikes_raise_no_alarm(engine: RuleEngine, scenario: str, text: str, code: str) -> None:
    assert code not in _failed_codes(engine, text, scenario)


def test_interruption_is_read_from_times_not_dashes(engine: RuleEngine) -> None:
    dashes_only = "客户：我想问一下提前还的话利息——\n坐席：APP上点就行。\n客户：我是想问利息是按——\n坐席：按天算。"
    assert "S04" not in _failed_codes(engine, dashes_only, "service")
    overlapping = "[0.0-5.0] 客户：我想问一下提前还的话利息是按天还是按月算\n[3.8-7.0] 坐席：APP上点提前还款就行。"
    assert "S04" in _failed_codes(engine, overlapping, "service")


def test_still_flags_a_plain_threat_of_escalation(engine: RuleEngine) -> None:
    assert "X01" in _failed_codes(engine, "客户：你们再不处理我就去人行投诉", "service")
    assert "X01" in _failed_codes(engine, "客户：我要找律师起诉你们", "service")
