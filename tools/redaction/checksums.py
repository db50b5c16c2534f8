"""Check digits and issuer patterns that tell a personal number from an arbitrary string of digits."""

from __future__ import annotations

import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")

# Issuer identification numbers (BIN prefixes) and the lengths their cards have: UnionPay, Visa, Mastercard,
# American Express, JCB, Discover/Diners. An order or policy number that passes Luhn by chance (1 in 10) rarely
# also starts like a card of the right length.
_CARD_BIN = re.compile(
    r"62\d{14,17}|4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9]|[3-6]\d|7[01])\d{13}|3[47]\d{13}|35\d{14}"
    r"|6(?:011|5\d{2})\d{12}|3(?:0[0-5]|[68]\d)\d{11}|60\d{14,17}"
)


def is_valid_id_number(value: str) -> bool:
    """GB 11643 check digit of an 18-character resident ID number (with a plausible month and day)."""
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def looks_like_id_number(value: str) -> bool:
    """An 18-character number shaped like a resident ID (region, birth date 18xx–20xx, digit or X), checksum aside."""
    return bool(_ID_SHAPE.fullmatch(value.upper()))


def passes_luhn(digits: str) -> bool:
    """The Luhn checksum used by bank card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def has_card_bin(digits: str) -> bool:
    """The number starts with a card issuer's prefix and has a length that issuer uses."""
    return bool(_CARD_BIN.fullmatch(digits))
