"""E-mail addresses, written (li.na@example.com) or read out ("li na at example dot com", "zhangwei艾特qq点com")."""

from __future__ import annotations

import re

from tools.redaction.kinds import PiiKind, PiiSpan

_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
_AT = r"(?:\s*@\s*|\s+at\s+|\s*[(\[]at[)\]]\s*|\s*艾特\s*|\s*圈a\s*)"
_DOT = r"(?:\s*\.\s*|\s*点\s*|\s+dot\s+|\s*[(\[]dot[)\]]\s*)"
_LABEL = r"[A-Za-z0-9一二三四五六七八九零幺-]+"
_TLD = r"(?:com|cn|net|org|edu|gov|cc|io|hk|tw|info|biz|me|co|uk|us|de|jp)"
_EMAIL = re.compile(rf"(?<![A-Za-z0-9._%+-]){_LOCAL}{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}{_TLD}(?![A-Za-z0-9])", re.I)
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SPOKEN_DIGITS = str.maketrans("零幺一二三四五六七八九", "01123456789")


def _canonical(raw: str) -> str:
    value = re.sub(_AT, "@", raw, count=1, flags=re.I)
    value = re.sub(_DOT, ".", value, flags=re.I)
    return value.translate(_SPOKEN_DIGITS).lower()


def find_emails(text: str) -> list[PiiSpan]:
    """E-mail addresses in ``text``; the value is the address as it would be written."""
    spans = [PiiSpan(PiiKind.EMAIL, m.start(), m.end(), _canonical(m.group(0))) for m in _EMAIL.finditer(text)]
    covered = [(s.start, s.end) for s in spans]
    for m in _PLAIN_EMAIL.finditer(text):  # any other TLD, written with a real @
        if not any(lo <= m.start() < hi for lo, hi in covered):
            spans.append(PiiSpan(PiiKind.EMAIL, m.start(), m.end(), m.group(0)))
    return spans
