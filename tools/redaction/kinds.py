"""What a piece of personal data is, where it was found, and the vault that maps placeholders back to values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PiiKind(StrEnum):
    """A kind of personal data; the value is the label shown in its placeholder (``[手机号#1]``)."""

    ID_NUMBER = "身份证号"
    BANK_CARD = "银行卡号"
    MOBILE = "手机号"
    LANDLINE = "座机"
    EMAIL = "邮箱"
    NAME = "姓名"
    ADDRESS = "地址"


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """``text[start:end]`` is personal data of ``kind``; ``value`` is its canonical form (digits only for numbers)."""

    kind: PiiKind
    start: int
    end: int
    value: str


@dataclass
class PiiVault:
    """Placeholder ↔ value mapping for one conversation; kept local, never sent to a model."""

    entries: dict[str, tuple[PiiKind, str]] = field(default_factory=dict)
    _by_value: dict[tuple[PiiKind, str], str] = field(default_factory=dict)

    def placeholder(self, kind: PiiKind, value: str) -> str:
        """The placeholder of ``value``: the same value always gets the same one within this vault."""
        key = (kind, value)
        if key not in self._by_value:
            count = sum(1 for k, _ in self._by_value if k is kind) + 1
            token = f"[{kind.value}#{count}]"
            self._by_value[key] = token
            self.entries[token] = key
        return self._by_value[key]
