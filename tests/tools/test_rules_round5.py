"""Round 5 of the rule tier: S02 false alarms (suspicion, defiance, the regulator as a topic, a granted right to
complain), next steps worded differently (B03) and risk disclosures in unusual words (C02).

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
from tools.sentiment import DistressScorer


@pytest.fixture(scope="module")
def scorer() -> DistressScorer:
    return DistressScorer()


@pytest.fixture(scope="module")
def engine(scorer: DistressScorer) -> RuleEngine:
    card: Scorecard = load_scorecard(PACK)
    return RuleEngine(card, scorer)


# ── S02: what the distress scorer must not read as upset, and what answers an upset customer ──


@pytest.mark.parametrize(
    "text",
    [
        "等一下，你说你是银行的，该不会是骗子吧？",  # suspicion of the caller
        "现在电话诈骗这么多，谁晓得你是不是骗子呢",
        "你少来吓唬我，我又不是没还过",  # calling out pressure: defiance
        "你们这种卡是不是归金融监管总局管的？",  # the regulator as a topic
    ],
)
def test_suspicion_defiance_and_topics_are_not_distress(scorer: DistressScorer, text: str) -> None:
    assert scorer.score(text) < 0.6


def test_fear_said_outright_is_upset(scorer: DistressScorer) -> None:
    assert scorer.score("昨天那个电话吓得我手都抖了，到现在心还慌") >= 0.6


def test_a_complaint_aimed_at_the_bank_is_intense(scorer: DistressScorer) -> None:
    # a guard, not a fix: lowering 监管 must not make a threat to go to the regulator ordinary upset
    # intense (>= 0.9): a work order alone does not answer it, an acknowledgement must
    assert scorer.score("乱扣的钱再不退，我直接去金融监管局投诉你们") >= 0.9


def test_a_customer_giving_up_is_not_left_unacknowledged(engine: RuleEngine) -> None:
    # "算了" ends the call dissatisfied (X02); it is not an upset the agent failed to acknowledge (S02)
    transcript = """客户：那行吧，说不通就算了算了，我回头自己去柜台。
坐席：好的，那您再考虑，有需要再联系我们。
客户：嗯。"""
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is not Verdict.FAIL


def test_calming_the_customer_acknowledges_the_upset(engine: RuleEngine) -> None:
    transcript = """客户：你们这是乱扣费！我要打12378投诉你们！
坐席：您先别激动，这笔费用我跟您一项一项说。
客户：你说。"""
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "complaint") is Verdict.PASS


def test_granting_the_right_to_complain_acknowledges_it(engine: RuleEngine) -> None:
    transcript = """客户：你们天天打电话，这是骚扰！我要打12378投诉你们！
坐席：您当然有权利去投诉，这个我们尊重，不过这期账单还是要处理的。
客户：哼。"""
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "collection") is Verdict.PASS


def test_waving_a_complaint_away_is_still_unacknowledged(engine: RuleEngine) -> None:
    # a guard, not a fix: the right-to-complain acknowledgement must not take in a dismissal
    transcript = """客户：你们天天打电话，这是骚扰！我要打12378投诉你们！
坐席：你爱投诉就投诉去，这期账单今天必须处理。
客户：哼。"""
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "collection") is Verdict.FAIL


# ── B03: the customer asking for a way forward is the trigger; a next step comes after it, in many words ──


@pytest.mark.parametrize(
    "ask",
    [
        "那这事到底归哪个部门，我该找谁问？",
        "那我就在这儿干等着？",
        "你们不管谁管？",
        "咁我个钱点算？",
    ],
)
def test_asking_for_a_way_forward_without_an_answer_fails(engine: RuleEngine, ask: str) -> None:
    transcript = f"""客户：我上周在柜台存的钱，今天查不到了。
坐席：系统里确实只显示这些。
客户：{ask}
坐席：这个我这边也说不好，还有别的问题吗？"""
    assert _verdict(engine, "BZ-NEXT-STEP", transcript, "complaint") is Verdict.FAIL


def test_a_look_up_before_the_problem_is_no_next_step(engine: RuleEngine) -> None:
    transcript = """客户：你好，我问个事。
坐席：好的，先帮您核实一下身份，请报身份证后四位。
客户：4417。我的卡在超市刷不了，一直提示失败。
坐席：卡片状态正常，我这里看不出原因。
客户：那我找谁？
坐席：这个真说不好。"""
    assert _verdict(engine, "BZ-NEXT-STEP", transcript, "service") is Verdict.FAIL


@pytest.mark.parametrize(
    "answer",
    [
        "您明天带上身份证和那张流水单去开户的支行，柜面会帮着查。",  # a visit with named papers
        "建议您先把这张卡的网上支付关掉，再留意一下短信提醒。",  # advice to act
        "好了，帮您解冻了，您再刷一次试试。",  # the fix done on the spot
        "您可以陪老人家去附近网点，本人到场就能办。",  # where to act
        "这笔钱明天中午十二点前会退回到您卡上。",  # a deadline
    ],
)
def test_a_next_step_worded_differently_passes(engine: RuleEngine, answer: str) -> None:
    transcript = f"""客户：我的卡刷不了，一直提示失败，这可咋整？
坐席：{answer}
客户：好的。"""
    assert _verdict(engine, "BZ-NEXT-STEP", transcript, "service") is Verdict.PASS


def test_who_the_bank_answers_to_is_no_problem(engine: RuleEngine) -> None:
    # a guard, not a fix: "谁管" asks for a way forward, "归谁管" asks about supervision
    transcript = """客户：你们这种村镇银行归谁管啊？
坐席：归地方金融监管部门和人民银行监管。
客户：好的。"""
    assert _verdict(engine, "BZ-NEXT-STEP", transcript, "service") is Verdict.NOT_APPLICABLE


# ── C02: a disclosure in the agent's own words passes; a product offered by its kind still needs one ──


@pytest.mark.parametrize(
    "disclosure",
    [
        "头两年要是退出来，拿到手的比您交进去的少，是有损失的。",
        "账户价值跟着市场走，可能会低于您交的钱。",
        "这个分红每年多少说不准，红利分配是不确定的。",
        "前三年退保会拿不回全部保费。",
        "说白了前几年退的话会亏。",
    ],
)
def test_a_disclosure_in_other_words_passes(engine: RuleEngine, disclosure: str) -> None:
    transcript = f"""坐席：王先生，给您推荐一款我们代销的分红型年金，交五年。
客户：嗯，你说。
坐席：{disclosure}
客户：明白了。"""
    assert _verdict(engine, "WS-RISK-DISCLOSURE", transcript, "telemarketing") is Verdict.PASS


@pytest.mark.parametrize(
    "offer",
    [
        "李姐，行里新上了一款增额终身寿，保额每年按复利涨，放得越久越值钱。",
        "呢只债券基金每个月派息，好稳阵嘅。",
        "按演示利益算，中档一年有四个点，比定期强多了。",
    ],
)
def test_a_product_offered_by_its_kind_needs_a_disclosure(engine: RuleEngine, offer: str) -> None:
    transcript = f"""坐席：{offer}
客户：听着不错。
坐席：那您考虑下，想好了随时找我。"""
    assert _verdict(engine, "WS-RISK-DISCLOSURE", transcript, "telemarketing") is Verdict.FAIL


def test_pure_accident_cover_needs_no_investment_risk_disclosure(engine: RuleEngine) -> None:
    transcript = """坐席：给您介绍一款保险，是综合意外险，每月九块九，意外住院和身故都能赔。
客户：先不用了。"""
    assert _verdict(engine, "WS-RISK-DISCLOSURE", transcript, "telemarketing") is Verdict.NOT_APPLICABLE


def test_a_cooling_off_period_after_signing_is_no_purchase(engine: RuleEngine) -> None:
    transcript = """坐席：这款万能险结算利率一直挺稳。
客户：那签单以后能反悔吗？
坐席：签单后有十五天犹豫期，犹豫期内可以全额退。
客户：好，我再想想。"""
    assert _verdict(engine, "WS-RISK-BEFORE-PURCHASE", transcript, "telemarketing") is Verdict.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("ask", "answer"),
    [
        ("那要是过两年我想退了呢？", "封闭期里是赎不了的，到期才能拿。"),
        ("我想把钱拿出来应急怎么办？", "这款持有满一年才能赎回。"),
    ],
)
def test_a_liquidity_question_in_other_words_needs_the_limit(engine: RuleEngine, ask: str, answer: str) -> None:
    evasive = f"""坐席：给您推荐一款一年期的固收理财，风险等级R2。
客户：{ask}
坐席：您放心，很灵活的。"""
    told = evasive.replace("您放心，很灵活的。", answer)
    assert _verdict(engine, "WS-LIQUIDITY-TERMS", evasive, "wealth_sales") is Verdict.FAIL
    assert _verdict(engine, "WS-LIQUIDITY-TERMS", told, "wealth_sales") is Verdict.PASS
