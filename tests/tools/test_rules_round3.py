"""Round 3 of the rule tier (issue 9), from misses on sets written by new writers (G, I): each case is the pattern
class in fresh words, and each failed before."""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.rules import RuleEngine


def _failed(engine: RuleEngine, text: str, scenario: str | None = None) -> set[str]:
    return {f.code for f in engine.evaluate(transcript(text, scenario=scenario)) if f.verdict is Verdict.FAIL}


# C10: the customer answers a closed question by echoing its verb ("签了", "看过") and then contradicts it; a
# "最后确认一下" that follows is the next item, not a reconfirmation.
ECHO_CONTRADICTION = (
    "坐席：合同是您本人签的字吗？\n"
    "客户：签了。其实那天是我侄子拿去帮我签的，我没去。\n"
    "坐席：好的，最后确认一下，您还有别的问题吗？\n"
    "客户：没有了。"
)
ECHO_RECONFIRMED = (
    "坐席：合同是您本人签的字吗？\n"
    "客户：签了。其实那天是我侄子拿去帮我签的，我没去。\n"
    "坐席：您是说不是您本人签的？这个我需要再确认一下。\n"
    "客户：对，是他签的。"
)


def test_an_echoed_answer_then_contradicted_and_not_reconfirmed_is_c10(engine: RuleEngine) -> None:
    assert "C10" in _failed(engine, ECHO_CONTRADICTION, "callback")


def test_an_echoed_answer_contradicted_and_reconfirmed_passes(engine: RuleEngine) -> None:
    assert "C10" not in _failed(engine, ECHO_RECONFIRMED, "callback")


# C12: outcomes only the bank's approval can give, promised as the agent's own doing.
@pytest.mark.parametrize(
    "line",
    [
        "坐席：这个您放心，包过的，材料交齐就行。",
        "坐席：我跟风控主任打个招呼，这笔就下来了。",
        "坐席：您把这期还上，我就把那条逾期记录给您删掉。",
        "坐席：亏掉的部分由我们行里给您补上，您别担心。",
        "坐席：行，我就把这个月的罚息给您免了。",
    ],
)
def test_promises_beyond_authority_in_other_words_are_c12(engine: RuleEngine, line: str) -> None:
    assert "C12" in _failed(engine, f"客户：这个能办吗？\n{line}", "loan")


@pytest.mark.parametrize(
    "line",
    [
        "坐席：能不能批要看审批结果，我没办法保证。",
        "坐席：逾期记录会按规定如实上报，我们删不了。",
        "坐席：我帮您把申请提交上去，审批通过会短信通知您。",
    ],
)
def test_honest_answers_about_approval_are_not_c12(engine: RuleEngine, line: str) -> None:
    assert "C12" not in _failed(engine, f"客户：这个能办吗？\n{line}", "loan")


# S02: distress said with the everyday intensifiers of complaint ("愁得…睡不着", "气得…") was scored calm.
def test_everyday_intensifiers_of_distress_need_an_acknowledgement(engine: RuleEngine) -> None:
    text = (
        "坐席：您好，请问有什么可以帮您？\n"
        "客户：我那笔退款一个月了还没到，气得我觉都睡不着，这钱是我看病的钱。\n"
        "坐席：退款一般十五个工作日到账。\n"
        "客户：那现在都超了。\n"
        "坐席：系统显示已经退了。"
    )
    assert "S02" in _failed(engine, text, "complaint")


# S03: an English call opens and closes politely in English (the pack's patterns were Chinese only).
def test_an_english_greeting_and_closing_are_greeting_and_closing(engine: RuleEngine) -> None:
    text = (
        "Agent: Good afternoon, this is Harbour Bank card services, Tom speaking.\n"
        "Customer: Hi, I want to check my statement date.\n"
        "Agent: It is the 5th of each month. Is there anything else I can help with?\n"
        "Customer: No, thanks.\n"
        "Agent: Thank you for calling, have a nice day."
    )
    assert "S03" not in _failed(engine, text, "service")


# C01: a flatmate (or a mother, in dialect) on the line is a third party — a privacy matter (C08), not a skipped
# identity check of the customer; the pack knew only some kinship words.
@pytest.mark.parametrize("who", ["不是，我是他室友，他手机落家里了。", "俺是他娘，他打工去了。"])
def test_a_third_party_on_the_line_is_not_a_skipped_identity_check(engine: RuleEngine, who: str) -> None:
    text = f"坐席：您好，安和银行信用卡中心，请问是刘先生吗？\n客户：{who}\n坐席：他的卡已经逾期两个月了。"
    assert "C01" not in _failed(engine, text, "collection")


# C01: a call-back in the app's chat is already authenticated (the labelling convention, as for disclosures).
def test_a_callback_in_app_chat_needs_no_identity_question(engine: RuleEngine) -> None:
    text = "坐席：您好，这里是安和银行理财回访，您上周购买的产品是您本人操作的吗？\n客户：是的。"
    conversation = transcript(text, scenario="callback", channel="chat")
    assert "C01" not in {f.code for f in engine.evaluate(conversation) if f.verdict is Verdict.FAIL}


# C11: "用同事的手机打的" is someone else's phone, not someone else's money.
def test_a_borrowed_phone_is_not_a_kyc_red_flag(engine: RuleEngine) -> None:
    text = (
        "坐席：您好，请问有什么可以帮您？\n客户：我卡丢了，现在是用同事的手机打的，想先挂失。\n"
        "坐席：好的，先帮您办理临时挂失。"
    )
    assert "C11" not in _failed(engine, text, "service")
    money = "坐席：您好，请问有什么可以帮您？\n客户：这笔钱是我同事的，我帮他转一下。\n坐席：好的，您要转多少？"
    assert "C11" in _failed(engine, money, "service")


# Cantonese function words (唔 = 不, 冇 = 没有, 系 = 是, 唔好收线 = 不要挂机): a denial read as the promise, a greeting
# and an announced hold not recognised — each a false alarm before.
@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("坐席：呢只基金唔保本㗎，净值会有上落。", "C03"),
        ("坐席：我唔可以应承您一定批到，要睇审批结果。", "C12"),
    ],
)
def test_cantonese_negation_scopes_the_match(engine: RuleEngine, line: str, code: str) -> None:
    assert code not in _failed(engine, f"客户：有冇保证㗎？\n{line}", "wealth_sales")


def test_a_cantonese_greeting_is_a_greeting(engine: RuleEngine) -> None:
    text = (
        "坐席：您好，南粤汇通外汇服务热线，我系 Amy，请问有咩可以帮您？\n客户：我想问下年费。\n"
        "坐席：好，多谢来电，再见。"
    )
    assert "S03" not in _failed(engine, text, "service")


def test_a_hold_announced_in_cantonese_or_by_its_length_is_announced(engine: RuleEngine) -> None:
    for announce in ("我帮您查下，唔好收线。", "我帮您查一查，大概要一分钟左右。"):
        text = f"[0-5] 坐席：{announce}\n[6-7] 客户：好。\n[40-45] 坐席：多谢等候，查到了。"
        assert "S05" not in _failed(engine, text, "service")


# From writer L's clean calls, by class: a self-introduction naming any organisation, "不打扰您了" as a polite close
# (its 不 negated the 拜拜 after it), and pointing the customer to where they can go as taking the problem in hand.
def test_a_greeting_that_introduces_any_organisation_is_a_greeting(engine: RuleEngine) -> None:
    text = "坐席：喂你好这边是恒远商务咨询找一下王先生\n客户：我就是。\n坐席：好的，再见。"
    assert "S03" not in _failed(engine, text, "collection")


def test_not_disturbing_any_longer_is_a_polite_close(engine: RuleEngine) -> None:
    text = "坐席：您好，安和银行信用卡中心，我是小李。\n客户：我不需要，谢谢。\n坐席：好的那不打扰你了拜拜"
    assert "S03" not in _failed(engine, text, "telemarketing")


def test_pointing_an_upset_customer_to_where_to_report_is_handling(engine: RuleEngine) -> None:
    text = (
        "坐席：您好，请问有什么可以帮您？\n客户：那个贷款中介收了我两千块就跑了，太坑人了！\n"
        "坐席：这种情况可以向当地派出所报案。\n客户：好的。"
    )
    assert "S02" not in _failed(engine, text, "service")


# LLM reach: ordinary true statements sent calls to the model for wrong information (B01), suitability (C04) and
# dissatisfaction (X02) — each trigger measured on the development part and the team's sets.
@pytest.mark.parametrize(
    ("text", "rule_id", "scenario"),
    [
        ("坐席：这张卡首年免年费，刷卡六次免次年年费。\n客户：好的。", "BZ-WRONG-INFO-SEMANTIC", "service"),
        (
            "客户：我爸住院了，想先把定期取出来。\n坐席：可以的，提前支取按活期计息。",
            "WS-SUITABILITY-SEMANTIC",
            "wealth_sales",
        ),
        ("坐席：还需要帮您办别的吗？\n客户：不用了，谢谢。", "XP-DISSATISFACTION-SEMANTIC", "service"),
    ],
)
def test_ordinary_statements_do_not_reach_the_llm(engine: RuleEngine, text: str, rule_id: str, scenario: str) -> None:
    finding = next(f for f in engine.evaluate(transcript(text, scenario=scenario)) if f.rule_id == rule_id)
    assert finding.verdict is Verdict.NOT_APPLICABLE


# S02 on writers M–O's clean calls: "您先消消气" and validating a customer's fear acknowledge it, and a stated risk
# tolerance ("亏一分钱我都受不了") is not distress.
@pytest.mark.parametrize(
    "text",
    [
        "客户：你们乱扣我钱，太过分了！\n坐席：您先消消气，我马上帮您查扣费记录。",
        "客户：我凭什么信你，现在骗子那么多，太气人了！\n坐席：您的顾虑是对的，您可以登录手机银行自己查看。",
        "客户：我年纪大了，亏一分钱我都受不了。\n坐席：那这款R1的存款产品比较适合您。",
    ],
)
def test_acknowledged_or_not_distressed_is_not_s02(engine: RuleEngine, text: str) -> None:
    assert "S02" not in _failed(engine, text, "service")
