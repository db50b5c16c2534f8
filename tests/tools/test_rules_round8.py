"""Round 8 of the rule tier: classes of verdict errors seen across several writers' sets — a guarantee asked about,
doubted or denied inside the phrase itself is no guarantee (C03); a pitched insurance policy needs no bank risk test
(C04); an English turn's speech rate is counted in words, not letters (S01); a scammer or a shady company
to report is no threat against the bank (X01); an agent saying it will never ask for a code, or warning of those who
do, asks for none (C08); cover sold with a loan needs its cooling-off period told (C06);
past returns cited in other forms need the not-the-future disclaimer, a past loss told as a risk does not (C02);
a worry handed back or sent elsewhere is a brush-off (S01).

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.tools.rule_cases import rule_verdict as _verdict
from tools.rules import RuleEngine

# ── C03: asked as an alternative, in an A-not-A question, or denied inside the phrase — no guarantee made ──


@pytest.mark.parametrize(
    ("scenario", "line"),
    [
        ("callback", "坐席：当时给您介绍的同事有没有讲过能拿多少，或者说保证不会亏本？"),
        ("callback", "坐席：购买时是否有人跟您说收益有多高，还是说稳赚不会亏？"),
        ("wealth_sales", "坐席：明年到底能赚几个点、会不会亏，现在谁也说不好。"),
        ("wealth_sales", "坐席：这只基金波动比较大，以后的收益没有保证，本金也没有保障。"),
    ],
)
def test_guarantee_asked_or_denied_passes(engine: RuleEngine, scenario: str, line: str) -> None:
    transcript = f"坐席：您好，我是理财经理小周。\n客户：你说。\n{line}\n客户：好，我明白。"
    assert _verdict(engine, "WS-NO-GUARANTEE", transcript, scenario) is Verdict.PASS


@pytest.mark.parametrize(
    "line",
    [
        "坐席：有没有风险您都不用管，或者说这个产品不会亏的，您放心买。",
        "坐席：这只基金您放心，收益是有保证的。",
        "坐席：放心吧阿姨，这个理财不会亏的。",
    ],
)
def test_guarantee_stated_still_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，我是理财经理小周。\n客户：你说。\n{line}\n客户：好的。"
    assert _verdict(engine, "WS-NO-GUARANTEE", transcript, "wealth_sales") is Verdict.FAIL


# ── C04: a pitched insurance policy goes through the insurer's checks, not the bank's risk test ──


@pytest.mark.parametrize(
    "pitch",
    [
        "坐席：给您介绍一款我们代销的养老年金保险，每年交三万，交十年，六十岁起每月领钱。",
        "坐席：这个产品是合作的人寿公司出的万能账户，现在结算利率是百分之三，您放二十万进去试试。",
    ],
)
def test_insurance_pitched_without_a_risk_test_is_waived(engine: RuleEngine, pitch: str) -> None:
    transcript = f"坐席：您好，我是网点的客户经理小何。\n客户：嗯，你讲。\n{pitch}\n客户：我考虑考虑。"
    assert _verdict(engine, "WS-RISK-PROFILE", transcript, "wealth_sales") is Verdict.NOT_APPLICABLE


def test_fund_pitched_without_a_risk_test_still_fails(engine: RuleEngine) -> None:
    transcript = (
        "坐席：您好，我是网点的客户经理小何。\n客户：嗯，你讲。\n"
        "坐席：给您推荐一只我们代销的偏股基金，今年表现不错，一千块起投。\n客户：我考虑考虑。"
    )
    assert _verdict(engine, "WS-RISK-PROFILE", transcript, "wealth_sales") is Verdict.FAIL


# ── S01: an English turn at an ordinary pace is not fast speech; its letters are not syllables ──


def test_english_at_an_ordinary_pace_is_not_fast(engine: RuleEngine) -> None:
    transcript = (
        "[0.0-12.0] 坐席：Good afternoon, this is the card centre calling about the annual fee on your platinum card, "
        "which we can waive this year if you spend a little more.\n"
        "[12.5-14.0] 客户：Okay, go on.\n"
        "[14.5-26.0] 坐席：The waiver applies once your spending reaches the threshold, and I can send the details "
        "to your registered email address after this call."
    )
    assert _verdict(engine, "SV-SPEECH-RATE", transcript, "telemarketing") is Verdict.PASS


def test_chinese_rushed_still_fast(engine: RuleEngine) -> None:
    transcript = (
        "[0.0-3.0] 坐席：这个年费我们今年可以给您免掉只要您消费满一定金额就可以了您看行吗。\n"
        "[3.2-3.8] 客户：啊？\n"
        "[4.0-7.0] 坐席：就是说您这张白金卡今年刷满五万块年费就全免了我给您登记上吧。"
    )
    assert _verdict(engine, "SV-SPEECH-RATE", transcript, "telemarketing") is Verdict.FAIL


# ── X01: reporting a scammer, a number or a shady company is no escalation against the bank ──


@pytest.mark.parametrize(
    "line",
    [
        "客户：懂了，那刚才冒充你们打来的骗子我可以去举报吗？",
        "客户：这个天天打来的陌生号码我要去举报它。",
        "客户：收了我两千块手续费的那家贷款中介我能去举报吗？",
    ],
)
def test_reporting_a_third_party_is_no_threat(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，这边是信用卡中心。\n{line}\n坐席：可以的，您可以拨打110反映。"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript, "service") is Verdict.PASS


def test_reporting_the_bank_is_still_a_threat(engine: RuleEngine) -> None:
    transcript = "坐席：您好，这边是信用卡中心。\n客户：你们天天打电话，我要去监管那里举报你们！\n坐席：非常抱歉。"
    assert _verdict(engine, "XP-ESCALATION-THREAT", transcript, "service") is Verdict.FAIL


# ── C08: never asking, telling the customer not to read it out, or warning of those who ask — no request ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：您放心，我们的客服绝不会打电话叫你念验证码。",
        "坐席：系统会发一条验证码到您手机上，您自己在页面上填就行，不用念给我。",
        "坐席：最近有人冒充我们打电话叫你报验证码，千万别理。",
    ],
)
def test_code_never_asked_for_passes(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：我想改一下绑定的手机号。\n{line}\n客户：好的。"
    assert _verdict(engine, "PR-NO-PASSWORD-OR-CODE", transcript, "service") is Verdict.PASS


def test_code_asked_for_still_fails(engine: RuleEngine) -> None:
    transcript = "客户：我想改一下绑定的手机号。\n坐席：系统刚发的验证码您念给我一下。\n客户：好的。"
    assert _verdict(engine, "PR-NO-PASSWORD-OR-CODE", transcript, "service") is Verdict.FAIL


# ── C06: insurance sold inside a loan — a policy or a borrower's accident cover — needs the cooling-off period ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这笔消费贷我顺带给您配了一份借款人意外保障，每月二十块，从放款那天开始扣。",
        "坐席：放款前您这边需要先投保一份信用保证保险，保费按月跟还款一起扣。",
    ],
)
def test_cover_sold_with_a_loan_without_cooling_off_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：我想借五万块装修。\n{line}\n客户：行，那就这样吧。"
    assert _verdict(engine, "INS-COOLING-OFF", transcript, "loan") is Verdict.FAIL


def test_cover_sold_with_a_loan_with_cooling_off_passes(engine: RuleEngine) -> None:
    transcript = (
        "客户：我想借五万块装修。\n坐席：这笔消费贷可以选配借款人意外保障，每月二十块，"
        "签收后有十五天犹豫期，期内可以全额退还。\n客户：行。"
    )
    assert _verdict(engine, "INS-COOLING-OFF", transcript, "loan") is Verdict.PASS


# ── C02: past returns in other forms — the year so far, last year's figure, every issue paid — need a disclaimer ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这只基金今年以来已经涨了二十来个点，现在上车正合适。",
        "坐席：这款去年全年跑到了五点二，在我们行卖得最好。",
        "坐席：这个系列发了好几年，每一期都是按三点八兑付的，您放心。",
        "坐席：历史上持有满一年的客户收益都还可以，您可以多配一点。",
    ],
)
def test_past_returns_without_disclaimer_fail(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：有没有收益高一点的理财？\n{line}\n客户：那我考虑一下。"
    assert _verdict(engine, "WS-PAST-PERFORMANCE", transcript, "wealth_sales") is Verdict.FAIL


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这只产品风险等级R3，净值会波动，去年最大回撤大概百分之六。",
        "坐席：它不保本，历史上出现过连续两个月小幅亏损的情况。",
        "坐席：这只基金今年以来涨了二十来个点，但过往业绩不代表未来表现。",
    ],
)
def test_past_loss_as_risk_or_disclaimed_returns_pass(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：有没有收益高一点的理财？\n{line}\n客户：那我考虑一下。"
    assert _verdict(engine, "WS-PAST-PERFORMANCE", transcript, "wealth_sales") is not Verdict.FAIL


# ── S01: the customer's worry handed back ('那是你们家的事', '这个我不管') or sent elsewhere ('问你的经理去') ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：他还不还得上那是你们家的事，我只管通知到位。",
        "坐席：手续费那个我不管，我这边只负责核对信息。",
        "坐席：收益怎么算的你问你们网点的客户经理去。",
    ],
)
def test_worry_handed_back_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：这个我真的搞不懂，你能帮我讲讲吗？\n{line}\n客户：好吧。"
    assert _verdict(engine, "SV-PERFUNCTORY", transcript, "service") is Verdict.FAIL


def test_going_on_regardless_is_no_brush_off(engine: RuleEngine) -> None:
    transcript = "客户：这个我真的搞不懂，你能帮我讲讲吗？\n坐席：我不管多晚都陪您弄清楚，咱们一步一步来。\n客户：好。"
    assert _verdict(engine, "SV-PERFUNCTORY", transcript, "service") is Verdict.PASS
