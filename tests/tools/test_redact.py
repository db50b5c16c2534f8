from __future__ import annotations

import pytest

from tests.conftest import transcript
from tools.redact import PiiVault, is_valid_id_number, passes_luhn, redact_conversation, redact_text


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("110101199003074514", True),
        ("11010119900307451X", False),
        ("110101199013074514", False),
        ("44030419851231002X", True),
    ],
)
def test_id_number_checksum(number: str, valid: bool) -> None:
    assert is_valid_id_number(number) is valid


def test_luhn() -> None:
    assert passes_luhn("6222021234567894") and not passes_luhn("6222021234567895")


def test_redacts_only_valid_values_and_keeps_placeholders_stable() -> None:
    vault = PiiVault()
    text = redact_text(
        "卡号6222 0212 3456 7894，身份证110101199003074514，手机138-1234-5678，邮箱li.na@example.com，"
        "后四位6158，订单号110101199003074515，金额6222021234567895",
        vault,
    )
    # Text is normalised first (NFKC turns the full-width comma into ",").
    assert text.startswith("卡号[银行卡号#1],身份证[身份证号#1],手机[手机号#1],邮箱[邮箱#1],后四位6158")
    assert "110101199003074515" in text and "6222021234567895" in text  # fail their checksums: not PII
    again = redact_text("再说一遍卡号6222021234567894", vault)
    assert again == "再说一遍卡号[银行卡号#1]"


def test_cued_numbers_are_redacted_even_with_a_bad_checksum() -> None:
    vault = PiiVault()
    text = redact_text("卡号6217 8800 3124 5678，身份证号510108199203152227，订单6217880031245678", vault)
    assert text == "卡号[银行卡号#1],身份证号[身份证号#1],订单6217880031245678"


def test_conversation_redaction_leaves_original_untouched() -> None:
    conv = transcript("客户：我手机是13912345678\n坐席：好的，13912345678收到。")
    redacted, vault = redact_conversation(conv)
    assert [t.text for t in redacted.turns] == ["我手机是[手机号#1]", "好的,[手机号#1]收到。"]
    assert conv.turns[0].text == "我手机是13912345678"
    assert list(vault.entries) == ["[手机号#1]"]
