"""Personal numbers, written or spoken: resident IDs, bank cards, mobiles and landlines.

A run of digits — ASCII or spoken (幺三八…, 洞 for 0, 两 for 2), grouped by spaces or dashes (6-8-4, 3-4-4),
spoken ones also by commas — is classified by its shape (ID checksum or birth-date shape, Luhn plus an issuer
prefix, 1[3-9] mobile, 0-area-code landline) and by the words just before it (身份证/卡号/手机/座机…). A number
labelled as something else (订单号, 保单号, 工号…) or followed by a unit of money is left alone, and so are
short numbers such as the last four digits of an ID that the agent asks for in an identity check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.redaction.checksums import has_card_bin, is_valid_id_number, looks_like_id_number, passes_luhn
from tools.redaction.kinds import PiiKind, PiiSpan

_SPOKEN = str.maketrans("零〇洞幺一二两三四五六七八九", "00011223456789")
_DIGIT = "0-9零〇洞幺一二两三四五六七八九"
_RUN = re.compile(rf"[{_DIGIT}]+(?:[ \-–—,，、][{_DIGIT}]+)*[Xx]?")
_SPOKEN_CHAR = re.compile(r"[零〇洞幺一二两三四五六七八九]")
_LIST_SEPARATOR = re.compile(r"[,，、]")
_EXTENSION = re.compile(r"(?:转|分机|-|ext\.?\s?)(\d{1,6})(?!\d)")
_DASH = re.compile(r"[\-–—]")
_GROUP = re.compile(r"[0-9]+[Xx]?")
_PAREN_LANDLINE = re.compile(r"\(0\d{2,3}\)[ -]?\d{3,4}[ -]?\d{4}(?!\d)")

_MIN_DIGITS = 7
_WINDOW = 16  # characters before a number searched for a cue

# The label nearest before a number says what it is; alternatives are tried left to right, so a specific label
# ("身份证号码") wins over the generic "号码" it contains.
_CUE = re.compile(
    r"(?P<negative>(?:订单|保单|运单|快递单|单号|流水|工单|合同|编号|交易|业务|申请|受理|参考|批次|凭证|发票|投诉"
    r"|案件|工号|客户号|会员|积分|密码|验证码|保险单|产品代码|代码|批号)(?:号码|号|编号|码)?)"
    r"|(?P<id>(?:身份证|证件|身份号)(?:号码|号|码)?)"
    r"|(?P<card>(?:卡号|银行卡|信用卡|储蓄卡|借记卡|工资卡|账号|帐号|账户|卡的号|卡)(?:号码|号|码|是)?)"
    r"|(?P<landline>(?:座机|固话|固定电话|办公电话|单位电话|家里电话|家里的电话|办公室电话)(?:号码|号)?)"
    r"|(?P<mobile>(?:手机|电话|联系方式|号码|拨打|致电|回电|打给|打到|微信)(?:号码|号)?)"
)
_NEGATIVE_ADJACENT = re.compile(r"^[是为:：\s]{0,3}$")
_MONEY_AFTER = re.compile(r"^\s*(?:元|块|万|亿|千|百|%|‰|人民币|美元|港元|英镑|欧元|日元|股|份)")
_CUE_KINDS = {
    "id": PiiKind.ID_NUMBER,
    "card": PiiKind.BANK_CARD,
    "landline": PiiKind.LANDLINE,
    "mobile": PiiKind.MOBILE,
}


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    digits: str


def _cue(before: str) -> PiiKind | bool | None:
    """The kind named by the nearest label before a number, False when that label says it is not personal."""
    window = before[-_WINDOW:]
    last: re.Match[str] | None = None
    for match in _CUE.finditer(window):
        last = match
    if last is None:
        return None
    if last.lastgroup == "negative":
        # "订单号是2023…" vetoes; "快递单上留的是138…" does not (the label is not right before the number).
        return False if _NEGATIVE_ADJACENT.match(window[last.end() :]) else None
    return _CUE_KINDS[str(last.lastgroup)]


def _by_shape(digits: str, groups: list[_Group]) -> PiiKind | None:
    """The kind a number has by its form alone, with no label."""
    n = len(digits)
    if n == 18 and (is_valid_id_number(digits) or looks_like_id_number(digits)):
        return PiiKind.ID_NUMBER
    if n == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return PiiKind.MOBILE
    if n == 13 and re.fullmatch(r"861[3-9]\d{9}", digits):
        return PiiKind.MOBILE
    if 13 <= n <= 19 and digits.isdigit() and passes_luhn(digits) and has_card_bin(digits):
        return PiiKind.BANK_CARD
    if (
        10 <= n <= 12
        and len(groups) >= 2
        and re.fullmatch(r"0[1-9]\d{1,2}", groups[0].digits)
        and 7 <= n - len(groups[0].digits) <= 8
    ):
        return PiiKind.LANDLINE  # 区号-号码: 0755-26881234, 010 6523 1234
    return None


def _by_label(digits: str, label: PiiKind, spoken: bool) -> PiiKind | None:
    """The kind of a number right after a label, when its form is close enough (a misheard digit is still PII)."""
    n = len(digits)
    if label is PiiKind.ID_NUMBER and 15 <= n <= 18:
        return label
    if label is PiiKind.BANK_CARD and 12 <= n <= 19:
        return label
    if label is PiiKind.LANDLINE and 7 <= n <= 12:
        return label
    if label is PiiKind.MOBILE:
        if digits.startswith("0") and 7 <= n <= 12:
            return PiiKind.LANDLINE
        if digits.startswith("1") and 10 <= n <= 13:
            return PiiKind.MOBILE
        if 7 <= n <= 8:
            return PiiKind.LANDLINE
        if spoken and n <= 13:
            return PiiKind.MOBILE
    return None


def _classify(text: str, groups: list[_Group]) -> PiiKind | None:
    start, end = groups[0].start, groups[-1].end
    digits = "".join(g.digits for g in groups).upper()
    if len(digits) < _MIN_DIGITS or _MONEY_AFTER.match(text[end : end + 4]):
        return None
    label = _cue(text[:start])
    if label is False:
        return None
    spoken = bool(_SPOKEN_CHAR.search(text, start, end))
    shaped = _by_shape(digits, groups)
    if shaped is not None:
        return shaped
    if isinstance(label, PiiKind):
        return _by_label(digits, label, spoken)
    return None


def _groups(text: str, run: re.Match[str]) -> list[list[_Group]]:
    """A run split into digit groups; a written run is also split at commas (a list of numbers, not one number)."""
    raw = run.group(0)
    spoken = bool(_SPOKEN_CHAR.search(raw))
    pieces = [(0, len(raw))]
    if not spoken and _LIST_SEPARATOR.search(raw):
        pieces, position = [], 0
        for sep in _LIST_SEPARATOR.finditer(raw):
            pieces.append((position, sep.start()))
            position = sep.end()
        pieces.append((position, len(raw)))
    result: list[list[_Group]] = []
    for lo, hi in pieces:
        converted = raw[lo:hi].translate(_SPOKEN)
        groups = [
            _Group(run.start() + lo + g.start(), run.start() + lo + g.end(), g.group(0))
            for g in _GROUP.finditer(converted)
        ]
        if groups:
            result.append(groups)
    return result


def _spans_in_run(text: str, groups: list[_Group]) -> list[PiiSpan]:
    """Longest classifiable stretches of consecutive groups, left to right."""
    spans: list[PiiSpan] = []
    i = 0
    while i < len(groups):
        if i > 0 and _DASH.search(text, groups[i - 1].end, groups[i].start):
            i += 1  # 400-820-8888: the part after a dash is not a number of its own
            continue
        for j in range(len(groups), i, -1):
            kind = _classify(text, groups[i:j])
            if kind is not None:
                start, end = groups[i].start, groups[j - 1].end
                digits = "".join(g.digits for g in groups[i:j]).upper()
                if kind is PiiKind.MOBILE and len(digits) == 13:
                    digits = digits[2:]
                if kind is PiiKind.MOBILE and text[max(start - 1, 0) : start] == "+":
                    start -= 1
                if kind is PiiKind.LANDLINE and (extension := _EXTENSION.match(text, end)):
                    end, digits = extension.end(), f"{digits}-{extension.group(1)}"
                spans.append(PiiSpan(kind, start, end, digits))
                i = j
                break
        else:
            i += 1
    return spans


def find_numbers(text: str) -> list[PiiSpan]:
    """Every personal number in ``text`` (already normalised: ASCII digits, no zero-width characters)."""
    spans = [
        PiiSpan(PiiKind.LANDLINE, m.start(), m.end(), re.sub(r"\D", "", m.group(0)))
        for m in _PAREN_LANDLINE.finditer(text)
    ]
    for run in _RUN.finditer(text):
        if run.end() - run.start() < _MIN_DIGITS:
            continue
        # Digits glued to letters are a code (工号A301, 订单DD2023…, a policy number P…), not a personal number.
        if run.start() > 0 and text[run.start() - 1].isascii() and text[run.start() - 1].isalpha():
            continue
        if run.end() < len(text) and text[run.end()].isascii() and text[run.end()].isalpha():
            continue
        for groups in _groups(text, run):
            spans.extend(_spans_in_run(text, groups))
    return spans
