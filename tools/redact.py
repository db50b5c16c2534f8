"""PII redaction before anything is stored or sent to a model; the mapping stays local.

Detects mainland resident ID numbers (checksum-validated), bank card numbers (Luhn-validated),
mainland mobile numbers and e-mail addresses. The same value gets the same placeholder across a
conversation, so evidence quotes stay readable ("客户报了[银行卡号#1]").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from core.models import Conversation


class PiiKind(StrEnum):
    ID_NUMBER = "身份证号"
    BANK_CARD = "银行卡号"
    MOBILE = "手机号"
    EMAIL = "邮箱"


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_valid_id_number(value: str) -> bool:
    """GB 11643 check digit of an 18-character resident ID number."""
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def passes_luhn(digits: str) -> bool:
    """The Luhn checksum used by bank card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_PATTERNS: list[tuple[PiiKind, re.Pattern[str]]] = [
    (PiiKind.EMAIL, re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    (PiiKind.ID_NUMBER, re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")),
    (PiiKind.BANK_CARD, re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")),
    (PiiKind.MOBILE, re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")),
]


# A number right after "身份证号" or "卡号" is that number even when a digit was misheard or mistyped:
# the checksum guards against redacting order numbers, not against leaking a customer's ID.
_CUE = {
    PiiKind.ID_NUMBER: re.compile(r"(身份证|证件)(号码|号)?[是为:：\s]{0,3}$"),
    PiiKind.BANK_CARD: re.compile(r"(卡号|银行卡|账号)(码)?[是为:：\s]{0,3}$"),
}


def _accept(kind: PiiKind, raw: str, before: str) -> bool:
    digits = re.sub(r"[ -]", "", raw)
    cued = kind in _CUE and bool(_CUE[kind].search(before[-12:]))
    if kind is PiiKind.ID_NUMBER:
        return is_valid_id_number(digits) or cued
    if kind is PiiKind.BANK_CARD:
        return 13 <= len(digits) <= 19 and (passes_luhn(digits) or cued)
    return True


@dataclass
class PiiVault:
    """Placeholder ↔ value mapping for one conversation; kept local, never sent to a model."""

    entries: dict[str, tuple[PiiKind, str]] = field(default_factory=dict)
    _by_value: dict[tuple[PiiKind, str], str] = field(default_factory=dict)

    def placeholder(self, kind: PiiKind, value: str) -> str:
        key = (kind, value)
        if key not in self._by_value:
            count = sum(1 for k, _ in self._by_value if k is kind) + 1
            token = f"[{kind.value}#{count}]"
            self._by_value[key] = token
            self.entries[token] = key
        return self._by_value[key]


def redact_text(text: str, vault: PiiVault) -> str:
    """Replace every PII value in ``text`` by its placeholder from ``vault``."""
    for kind, pattern in _PATTERNS:

        def substitute(match: re.Match[str], kind: PiiKind = kind) -> str:
            raw = match.group(0)
            if not _accept(kind, raw, match.string[: match.start()]):
                return raw
            return vault.placeholder(kind, re.sub(r"[ -]", "", raw) if kind is not PiiKind.EMAIL else raw)

        text = pattern.sub(substitute, text)
    return text


def redact_conversation(conversation: Conversation) -> tuple[Conversation, PiiVault]:
    """A copy of the conversation with PII replaced, and the vault that can restore it."""
    vault = PiiVault()
    turns = [t.model_copy(update={"text": redact_text(t.text, vault)}) for t in conversation.turns]
    redacted = conversation.model_copy(update={"turns": turns})
    return redacted, vault
