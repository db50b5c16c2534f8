"""Round 2 of the rule tier (issue 9): look-alikes that raised false alarms, weak guarantee words outside sales,
and semantic triggers that sent ordinary calls to the LLM.

Each case is a pattern class written in fresh words (not a sentence of the labelled sets); each failed before.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.rules import RuleEngine
from tools.rules.scope import is_conditional, is_negated


def _verdicts(engine: RuleEngine, text: str, scenario: str | None) -> dict[str, Verdict]:
    return {f.rule_id: f.verdict for f in engine.evaluate(transcript(text, scenario=scenario))}


def _failed_codes(engine: RuleEngine, text: str, scenario: str | None) -> set[str]:
    findings = engine.evaluate(transcript(text, scenario=scenario))
    return {f.code for f in findings if f.verdict is Verdict.FAIL}


LOOK_ALIKES = [
    # C01: asking whether the customer needs help with bills discloses nothing.
    (
        "telemarketing",
        "坐席：您好，我是安和银行信用卡中心的。\n客户：不需要。\n坐席：好的，您平时信用卡账单这些有没有要帮忙的？",
        "C01",
    ),
    # C01: a relative on the line is a privacy matter (C08), not a skipped identity check of the customer.
    (
        "collection",
        "坐席：请问是周强先生吗？\n客户：我是他老婆，他出差了。\n坐席：他的信用卡已经逾期四个月了，欠了三万多。",
        "C01",
    ),
    # C09: asking a third party to pass on a call-back request is the compliant way.
    (
        "collection",
        "坐席：请问是周强先生吗？\n客户：我是他同事。\n坐席：涉及个人信息只能跟本人说，麻烦您转告他有空回个电话。",
        "C09",
    ),
    # C08: warning the customer not to give full numbers away.
    ("service", "坐席：提醒您，我行工作人员从来不会向您索要完整的身份证号和卡号。", "C08"),
    ("service", "坐席：请您千万不要在任何页面输入完整的银行卡号和密码。", "C08"),
    # C12: a promotion the bank runs is no promise beyond the agent's authority.
    ("loan", "坐席：现在注册有新人券，可以减免5天利息，具体以活动页面为准。", "C12"),
    # C07: servicing an existing loan owes no repayment terms of a new one.
    ("loan", "坐席：核实通过。您这笔贷款还剩十二万本金没还，提前还款要先预约。", "C07"),
    # S03: goodbye in other words.
    (
        "service",
        "坐席：您好，安和银行客服中心，我是小林。\n客户：我在开会，晚点再说。\n坐席：好的，不打扰您，有需要随时联系我们。",
        "S03",
    ),
    # S03: an institution other than a bank or a centre introduces itself.
    (
        "collection",
        "坐席：喂，你好，请问是王女士吗？\n客户：是我，哪位？\n坐席：我这边是安和消费金融的，跟您核对一笔借款。\n"
        "客户：好。\n坐席：好的，感谢您的配合，再见。",
        "S03",
    ),
    # C10: the agent checks the discrepancy before moving on.
    (
        "callback",
        "坐席：这笔十万的理财是您本人购买的吗？\n客户：是本人。不过我记得好像是八万吧？\n"
        "坐席：好的，金额我帮您核对一下，请稍等。\n客户：好。\n坐席：核对了，是两笔合计十万。",
        "C10",
    ),
    # C03: a hypothesis whose consequence opens the next clause asserts nothing.
    ("wealth_sales", "坐席：这款不保本，净值会波动。如果您希望本金更有保障，也可以考虑大额存单。", "C03"),
    # ASR: "就是" is a filler in speech, not a likening verb.
    ("wealth_sales", "坐席：嗯这个一年不能取所以您担心用钱的话就是可以理财和存单各放一半", "C05"),
    # ASR writes 你 for 您: the next step offered still counts.
    ("complaint", "客户：我转的钱到现在没到账。\n坐席：好的我帮你提交核查然后有结果联系你", "B03"),
    # C02: a loss disclosed in plain words.
    (
        "telemarketing",
        "坐席：给您介绍一款保险产品，交十年。\n客户：中途不想交了呢？\n坐席：前几年退保拿回的现金价值比已交的保费少，会有损失。",
        "C02",
    ),
]


@pytest.mark.parametrize(("scenario", "text", "code"), LOOK_ALIKES)
def test_look_alikes_raise_no_alarm(engine: RuleEngine, scenario: str, text: str, code: str) -> None:
    assert code not in _failed_codes(engine, text, scenario)


REASSURANCE = "坐席：卡已经解锁了，您现在转账没有任何风险，绝对安全，出不了事的。"


@pytest.mark.parametrize("scenario", [None, "service", "complaint"])
def test_reassurance_about_an_operation_is_no_guarantee(engine: RuleEngine, scenario: str | None) -> None:
    assert _verdicts(engine, REASSURANCE, scenario)["WS-NO-GUARANTEE"] is not Verdict.FAIL


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("service", "客户：那个基金会不会亏啊？\n坐席：不会亏的，没有风险。"),  # weak words, a product in question
        ("wealth_sales", "坐席：放心，没有任何风险。"),  # weak words in a sales call need no context
        (None, "坐席：这个保本，刚性兑付。"),  # strong words anywhere
        ("collection", "坐席：这款理财稳赚，收益有保证。"),
    ],
)
def test_a_guarantee_still_fails(engine: RuleEngine, scenario: str | None, text: str) -> None:
    assert _verdicts(engine, text, scenario)["WS-NO-GUARANTEE"] is Verdict.FAIL


def test_repeated_outburst_after_an_earlier_apology_is_the_same_episode(engine: RuleEngine) -> None:
    text = (
        "客户：你们怎么回事，我的钱被扣了三次，太过分了！\n"
        "坐席：非常抱歉给您添麻烦了，我马上帮您查。\n"
        "客户：查了半天还没结果，烦死了，算了！\n"
        "坐席：感谢您的反馈，祝您生活愉快。"
    )
    assert _verdicts(engine, text, "complaint")["SV-DISTRESS-ACKNOWLEDGE"] is Verdict.PASS


def test_an_unacknowledged_outburst_still_fails(engine: RuleEngine) -> None:
    text = "客户：你们怎么回事，我的钱被扣了三次，太过分了！\n坐席：请报一下卡号后四位。"
    assert _verdicts(engine, text, "complaint")["SV-DISTRESS-ACKNOWLEDGE"] is Verdict.FAIL


def test_minimising_with_less_than_is_caught(engine: RuleEngine) -> None:
    assert "C07" in _failed_codes(engine, "坐席：借一万块利息很低，还不到一杯咖啡钱。", "loan")


def test_overdue_for_a_week_before_verification_is_a_disclosure(engine: RuleEngine) -> None:
    text = "坐席：喂，是李强吧？你那笔借款逾期一个礼拜了，什么时候还？"
    assert "C01" in _failed_codes(engine, text, "collection")


QUIET_CALLS = [
    # Comparing returns with a deposit, or splitting money between both, likens nothing.
    ("wealth_sales", "坐席：这款比定期收益高一点，您也可以理财和存单各放一半。", "WS-MISLEADING-COMPARISON-SEMANTIC"),
    ("wealth_sales", "坐席：这款比定期收益高一点，您也可以理财和存单各放一半。", "WS-IMPLIED-GUARANTEE"),
    # A question about withdrawing states no constraint.
    ("wealth_sales", "客户：那我中途要用钱的话能取吗？", "WS-SUITABILITY-SEMANTIC"),
    # "是不是这样？" asks; it objects to nothing.
    ("wealth_sales", "客户：朋友说这种一年期的都稳赚，是不是这样？", "WS-NEEDS-IGNORED"),
    # Telling when the system updates is no deflection.
    ("service", "坐席：您还款后大概两个小时系统就会更新额度。", "SV-PERFUNCTORY-SEMANTIC"),
    # "好，那就这样" closes a call that went well.
    ("service", "客户：好，那就这样，谢谢。", "XP-DISSATISFACTION-SEMANTIC"),
    # A hedge the agent reconfirms at once.
    (
        "callback",
        "坐席：是您本人操作的吗？\n客户：是。其实是我女儿帮我点的。\n坐席：我跟您再确认一下，是您自己决定买的吗？",
        "CB-CONTRADICTION-SEMANTIC",
    ),
    # "如果…本金更有保障，也可以…" is a hypothesis, not a reassurance.
    ("wealth_sales", "坐席：如果您希望本金更有保障，也可以考虑大额存单。", "WS-IMPLIED-GUARANTEE"),
]


@pytest.mark.parametrize(("scenario", "text", "rule_id"), QUIET_CALLS)
def test_ordinary_talk_does_not_reach_the_llm(engine: RuleEngine, scenario: str, text: str, rule_id: str) -> None:
    assert _verdicts(engine, text, scenario)[rule_id] is Verdict.NOT_APPLICABLE


def test_real_triggers_still_reach_the_llm(engine: RuleEngine) -> None:
    # Likening to a deposit is decided by WS-NOT-A-DEPOSIT (round 7); likening to government bonds needs the LLM.
    likened = _verdicts(engine, "坐席：这个跟国债差不多，很稳。", "wealth_sales")
    assert likened["WS-MISLEADING-COMPARISON-SEMANTIC"] is Verdict.NOT_EVALUATED
    hedged = _verdicts(
        engine,
        "坐席：您了解产品的风险吗？\n客户：了解。\n坐席：好的。\n客户：对了，平时都是经理帮我操作的。\n坐席：好的，回访结束。",
        "callback",
    )
    assert hedged["CB-CONTRADICTION-SEMANTIC"] is Verdict.NOT_EVALUATED


def test_a_negated_request_reaches_past_the_usual_negation_window() -> None:
    text = "我们绝不会要求您提供短信验证码、登录密码或完整卡号"
    start = text.index("完整卡号")
    assert is_negated(text, start, start + 4)
    asked = "麻烦您提供一下完整卡号"
    start = asked.index("完整卡号")
    assert not is_negated(asked, start, start + 4)


def test_a_condition_whose_consequence_opens_the_next_clause() -> None:
    text = "如果您希望本金更有保障，也可以考虑存单"
    start = text.index("本金更有保障")
    assert is_conditional(text, start, start + 6)
    plain = "本金更有保障，也可以考虑存单"
    start = plain.index("本金更有保障")
    assert not is_conditional(plain, start, start + 6)


PARAPHRASES = [
    # C11: structuring below the reporting line, helped along.
    (
        "service",
        "客户：我有三十万现金，拆成几天存，每次四万多，这样就不用登记了吧？\n坐席：对，每天不超过五万就行。",
        "C11",
    ),
    # X02: the customer ends barring further calls.
    ("telemarketing", "坐席：那我下周再联系您。\n客户：不需要，不要再打电话了！", "X02"),
    # S01: dismissing a complaint.
    ("collection", "客户：你这什么态度，我要投诉。\n坐席：投诉去吧，该还的还得还。", "S01"),
    # C05: likening to saving money.
    ("telemarketing", "坐席：这个保险每年交两万，相当于存钱，到期还多给您一笔。", "C05"),
]


@pytest.mark.parametrize(("scenario", "text", "code"), PARAPHRASES)
def test_paraphrases_and_asr_forms_are_caught(engine: RuleEngine, scenario: str, text: str, code: str) -> None:
    assert code in _failed_codes(engine, text, scenario)
