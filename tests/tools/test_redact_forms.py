"""Each form of personal data that redaction used to miss (issue 11 row 6), and the look-alikes it must keep."""

from __future__ import annotations

import pytest

from tests.conftest import transcript
from tools.ner import EntityTagger, Word
from tools.redact import PiiVault, redact_conversation, redact_text


def _redact(text: str) -> str:
    return redact_text(text, PiiVault())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我手机号是幺三八一二三四五六七八", "我手机号是[手机号#1]"),
        ("号码是一三九，八七六五，四三二一", "号码是[手机号#1]"),
        ("手机号是138幺二三四洞六七八", "手机号是[手机号#1]"),
        ("手机１３８１２３４５６７８", "手机[手机号#1]"),
        ("手机 138 1234 5678", "手机 [手机号#1]"),
        ("号码是+86 13812345678", "号码是[手机号#1]"),
        ("身份证是110101 19900307 4514", "身份证是[身份证号#1]"),
        ("身份证是110101-19900307-4514", "身份证是[身份证号#1]"),
        ("您帮我查110101199003074515名下的业务", "您帮我查[身份证号#1]名下的业务"),  # bad checksum, ID-shaped
        ("我家座机021-62345678", "我家座机[座机#1]"),
        ("座机号码(0755)26881234", "座机号码[座机#1]"),
        ("办公电话0571-87654321转806", "办公电话[座机#1]"),
        ("我的邮箱是li.na at example dot com", "我的邮箱是[邮箱#1]"),
        ("邮箱是zhangwei艾特qq点com", "邮箱是[邮箱#1]"),
        ("发到service@anhe-bank.com.cn", "发到[邮箱#1]"),
        ("我叫王建国,想查账单", "我叫[姓名#1],想查账单"),
        ("请问是赵秀兰女士吗?", "请问是[姓名#1]女士吗?"),
        ("您好,请问是梁嘉文梁先生吗?", "您好,请问是[姓名#1]梁先生吗?"),
        ("我住在上海市长宁区仙霞路318号5栋1202室", "我住在[地址#1]"),
        ("账单寄到南京市玄武区珠江路88号新世界中心1208室", "账单寄到[地址#1]"),
    ],
)
def test_forms_that_were_missed_are_redacted(text: str, expected: str) -> None:
    assert _redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号2023110512345675,已经发货了",  # passes Luhn, but no card prefix and labelled an order
        "保单号是8612345678901234",
        "交易流水号1000123456789012346",
        "身份证后四位是0326",
        "后四位0326,核实通过",
        "您好,安和银行客服中心,工号A301为您服务",
        "我是回访专员工号0417",
        "您本次购买金额是二十万元",
        "转账金额是1,250,000元",
        "您是2023-11-05开的户",
        "您可以到我行和平路支行办理",
        "我们网点在建国路88号,您到了之后取号",
        "推荐您看看弘泰新能源混合A",
        "请拨打客服热线400-820-8888",
        "好的王先生",
        "欧阳女士,您还有别的问题吗",
        "我是理财经理小陈",
        "我在上海工作",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert _redact(text) == text


def test_uncued_luhn_numbers_need_a_card_prefix() -> None:
    # Before: any 13-19 digit Luhn-valid number was a card; order numbers were redacted one time in ten.
    assert _redact("单子2023110512345675到了") == "单子2023110512345675到了"
    assert _redact("用6222021234567894还的款") == "用[银行卡号#1]还的款"


def test_text_is_normalised_before_redaction() -> None:
    assert _redact("手机138\u200b1234\u200b5678") == "手机[手机号#1]"


class _CountingTagger(EntityTagger):
    """The real tagger, recording which texts it was asked to tag."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def words(self, text: str) -> list[Word]:
        self.seen.append(text)
        return super().words(text)


def test_ner_runs_only_on_windows_around_a_cue() -> None:
    tagger = _CountingTagger()
    conversation = transcript(
        "坐席：您好,安和银行客服中心,请问有什么可以帮您?\n"
        "客户：我想问一下信用卡分期的手续费是多少。\n"
        "坐席：分期手续费每期0.6%,一共十二期。\n"
        "客户：好的,我叫刘德明,帮我办一下吧。"
    )
    redacted, vault = redact_conversation(conversation, tagger=tagger)
    assert redacted.turns[3].text == "好的,我叫[姓名#1],帮我办一下吧。"
    assert vault.entries == {"[姓名#1]": (vault.entries["[姓名#1]"][0], "刘德明")}
    assert len(tagger.seen) == 1 and "刘德明" in tagger.seen[0] and len(tagger.seen[0]) <= 20
