"""Round 6 of the rule tier: what three unseen writers (ASR transcripts, a rural bank's northwestern speech, in-app
chats with typos) exposed — typos and regional words read as Mandarin, a spotless record told as a promise (C03),
a personal guarantee or a fee waived on the spot (C12), shaming to a crowd or the workplace (C09), a fee named
without a price (C07), a quoted cost framing corrected (C07), a screen or menu path as a next step (B03) and the
regulator remembered as a visitor (X01).

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.tools.rule_cases import rule_verdict as _verdict
from tools.dialect import mandarin_reading
from tools.rules import RuleEngine

# ── the reading: typos and northwestern words, same length, never a compound ──


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("我帐号登不上，钱以经扣了", "我账号登不上，钱已经扣了"),
        ("这个力息怎么算的", "这个利息怎么算的"),
        ("额们这边额给您查", "我们这边我给您查"),
        ("莫麻达，放心", "没问题，放心"),
    ],
)
def test_typos_and_northwestern_words_read_as_mandarin(typed: str, read: str) -> None:
    assert mandarin_reading(typed) == read


@pytest.mark.parametrize(
    "text",
    ["所以经营贷要提前还吗", "可以经常来网点", "余额给您发短信了", "等额本息每月一样多", "账户限额知道吗"],
)
def test_compounds_are_left_alone(text: str) -> None:
    assert mandarin_reading(text) == text


# ── C03: a spotless record or a sure outcome told as a promise ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这款我们代销了好几年，一回都没亏过，您就放心拿着。",
        "坐席：您按四个点算就行，到期少不了您的。",
        "坐席：这支基金放三年怎么都是赚的。",
        "坐席：老客户买了这么多年，没见过一个拿回来少了的。",
        "坐席：每年稳稳当当领分红，跟发工资似的。",
    ],
)
def test_spotless_record_as_promise_fails(engine: RuleEngine, line: str) -> None:
    assert _verdict(engine, "WS-EXAGGERATED-RETURN", f"客户：这个理财靠谱吗？\n{line}", "wealth_sales") is Verdict.FAIL


def test_honest_record_passes(engine: RuleEngine) -> None:
    transcript = "客户：这个理财靠谱吗？\n坐席：过去三年年化在三点几，但净值会波动，过往业绩不代表未来，可能亏损本金。"
    assert _verdict(engine, "WS-EXAGGERATED-RETURN", transcript, "wealth_sales") is Verdict.PASS


# ── C12: a guarantee of an outcome, a fee waived on the spot ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：您别急，保证下周之前给您把钱退到卡上。",
        "坐席：这笔违约金我这里直接给您免掉。",
        "坐席：以后您再借款我也都给您免手续费。",
        "坐席：续期的事额给您办，包在额身上。",
    ],
)
def test_guarantee_or_waiver_beyond_authority_fails(engine: RuleEngine, line: str) -> None:
    assert _verdict(engine, "AU-BEYOND-AUTHORITY", f"客户：能不能帮帮忙？\n{line}") is Verdict.FAIL


def test_guarantee_denied_passes(engine: RuleEngine) -> None:
    transcript = "客户：能退回来吗？\n坐席：退款要以审核结果为准，我不能保证给您退，但会帮您提交申请。"
    assert _verdict(engine, "AU-BEYOND-AUTHORITY", transcript) is Verdict.PASS


# ── C09: shaming to a crowd, calling the workplace, taking property, a summons sent home ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：再不还，我们就让整条街的邻居和大家都知道你欠钱。",
        "坐席：下个月还没钱，我们直接打电话到你们单位去。",
        "坐席：到时候把你家的车拖走抵债。",
        "坐席：等着吧，法院传票很快寄到你家。",
    ],
)
def test_collection_threats_fail(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您的贷款逾期了。\n客户：最近手头紧。\n{line}"
    assert _verdict(engine, "CL-NO-THREATS", transcript, "collection") is Verdict.FAIL


# ── C07: a fee without a price, a quoted cost framing corrected ──


def test_fee_named_without_a_price_needs_no_apr(engine: RuleEngine) -> None:
    transcript = "客户：手续费能开发票吗？\n坐席：可以，手续费发票在账单页申请，按月开具。"
    assert _verdict(engine, "LN-APR-DISCLOSED", transcript) is Verdict.NOT_APPLICABLE


def test_fee_with_a_price_still_needs_apr(engine: RuleEngine) -> None:
    transcript = "坐席：分期手续费每期百分之零点六，很划算。\n客户：好的。"
    assert _verdict(engine, "LN-APR-DISCLOSED", transcript, "telemarketing") is Verdict.FAIL


def test_quoted_cost_framing_corrected_passes(engine: RuleEngine) -> None:
    transcript = "客户：是不是一天才几块钱？\n坐席：“每天才几块钱”这么算会低估成本，折合年化是百分之七点二。"
    assert _verdict(engine, "LN-COST-MINIMISING", transcript, "loan") is Verdict.PASS


# ── B03: the screen or menu path to act on is a next step ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：您在“设置-安全中心”里直接解除就行。",
        "坐席：您在还款页换一张卡再扣就可以了。",
        "坐席：您让他本人在小程序提交申请。",
    ],
)
def test_menu_path_is_a_next_step(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：我的转账失败了，怎么办？\n{line}"
    assert _verdict(engine, "BZ-NEXT-STEP", transcript, "service") is Verdict.PASS


# ── X01: the regulator remembered as a visitor is no threat ──


def test_regulator_as_visitor_is_no_threat(engine: RuleEngine) -> None:
    transcript = "客户：去年监管局的人来我们厂里普及过，说这种扣款不合规，对吧？\n坐席：我帮您核实。"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript) is Verdict.PASS


def test_going_to_the_regulator_is_still_a_threat(engine: RuleEngine) -> None:
    transcript = "客户：去年就扣过一次，这回我直接去人民银行投诉！\n坐席：您先别急。"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript) is Verdict.FAIL
