"""Text matching for Chinese transcripts: clause-scoped negation, reported speech, windows, fuzzy scripts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from core.models import Conversation, Role, Utterance
from core.scorecard import Matcher, Window

_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;…\n]")
# A negator shortly before a match: 不保本, 并非保本, 没有承诺保本, 不能保证本金.
# "再不还就起诉你" is a conditional threat, not a negation: 就/则/的话 between them breaks it.
_NEGATION_BEFORE = re.compile(
    r"(不(?!过|但|仅|少|久|管|错)|没|没有|非(?!常)|无(?!论)|未(?!来)|别(?!人)|并非|不是|不能|不会|无法|不可能|不一定|"
    r"不得|不要|禁止|严禁|谈不上|而不是)"
    r"(?:(?!就|则|的话|否则|要)[^，。！？；]){0,4}$"
)
# A denial right after a match: 保本是不可能的, 稳赚不赔这个说法是不对的.
_NEGATION_AFTER = re.compile(
    r"^[，,]?[^，。！？；]{0,8}?(是?不可能|不了|是?不对|不存在|是错的|是没有的|不成立|不准确|不靠谱|没有这回事|不能这么说)"
)
# Reported speech: the agent names what someone else said, usually to correct it.
_REPORTED = re.compile(
    r"(您说的|您问的|您是问|您说|您听说|所谓|有人说|别人说|他们说|她说|他说|同事说|网上说|您提到|您担心)[^，。！？；]{0,12}$"
)
_SAYING_AFTER = re.compile(r"^[^，。！？；]{0,4}(这个说法|这种说法|的说法|这种话|这话)")


@dataclass(frozen=True, slots=True)
class Hit:
    """A pattern match inside one turn."""

    turn: int
    start: int
    end: int


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE_BREAK.search(text, end)
    return left, right_match.start() if right_match else len(text)


def is_negated(text: str, start: int, end: int) -> bool:
    """True when the match is negated or denied within its clause."""
    left, right = _clause_bounds(text, start, end)
    before, after = text[left:start], text[end : min(len(text), end + 16)]
    if _NEGATION_BEFORE.search(before):
        return True
    # A denial may cross into the next clause: "稳赚不赔，这是不可能的".
    return bool(_NEGATION_AFTER.search(after) or _NEGATION_AFTER.search(text[end:right]))


def is_reported(text: str, start: int, end: int, previous_customer: str | None) -> bool:
    """True when the agent is quoting or answering someone else's words rather than saying them."""
    left, _ = _clause_bounds(text, start, end)
    if _REPORTED.search(text[left:start]) or _SAYING_AFTER.search(text[end:]):
        return True
    phrase = text[start:end]
    # Echoing the customer's own question back ("保本的？") without asserting it.
    following = text[end : end + 1]
    return bool(
        previous_customer and len(phrase) >= 2 and phrase in previous_customer and following and following in "吗？?"
    )


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def find_hits(
    conversation: Conversation,
    patterns: Sequence[str],
    *,
    role: Role | None,
    turns: Iterable[int] | None = None,
    negation_aware: bool = False,
    skip_reported: bool = False,
    unless: Sequence[str] = (),
) -> list[Hit]:
    """Every match of any pattern in the eligible turns, after negation and quoting filters."""
    eligible = range(len(conversation.turns)) if turns is None else turns
    hits: list[Hit] = []
    for index in eligible:
        turn = conversation.turns[index]
        if role is not None and turn.role is not role:
            continue
        if unless and any(compiled(p).search(turn.text) for p in unless):
            continue
        previous_customer = _previous_text(conversation.turns, index, Role.CUSTOMER)
        for pattern in patterns:
            for m in compiled(pattern).finditer(turn.text):
                if m.end() == m.start():
                    continue
                if negation_aware and is_negated(turn.text, m.start(), m.end()):
                    continue
                if skip_reported and is_reported(turn.text, m.start(), m.end(), previous_customer):
                    continue
                hits.append(Hit(index, m.start(), m.end()))
    return hits


def matches(conversation: Conversation, matcher: Matcher, *, turns: Iterable[int] | None = None) -> list[Hit]:
    """Hits of a Matcher (negation-aware: a negated event did not happen)."""
    return find_hits(conversation, matcher.patterns, role=matcher.role, turns=turns, negation_aware=True)


def _previous_text(turns: Sequence[Utterance], index: int, role: Role) -> str | None:
    for j in range(index - 1, max(-1, index - 3), -1):
        if turns[j].role is role:
            return turns[j].text
    return None


def window_turns(conversation: Conversation, window: Window | None) -> list[int]:
    """Indexes of the turns a window admits (all turns when there is no window)."""
    indexes = list(range(len(conversation.turns)))
    if window is None:
        return indexes
    n = len(indexes)
    if window.first_turns is not None:
        indexes = [i for i in indexes if i < window.first_turns]
    if window.last_turns is not None:
        indexes = [i for i in indexes if i >= n - window.last_turns]
    if window.first_seconds is not None and conversation.timed:
        limit = window.first_seconds
        indexes = [i for i in indexes if (conversation.turns[i].start or 0) <= limit]
    if window.after is not None:
        after_hits = matches(conversation, window.after)
        first = min((h.turn for h in after_hits), default=None)
        last = n if first is None or window.span is None else first + window.span
        indexes = [] if first is None else [i for i in indexes if first < i <= last]
    if window.before is not None:
        before_hits = matches(conversation, window.before)
        first = min((h.turn for h in before_hits), default=None)
        if first is not None:
            indexes = [i for i in indexes if i < first]
    return indexes


_PUNCT = re.compile(r"[\s，,。.！!？?；;：:、“”\"'‘’（）()…—-]+")


def fuzzy_score(phrase: str, text: str) -> float:
    """How well a script line appears inside a turn (0-100), ignoring punctuation and spacing."""
    return float(fuzz.partial_ratio(_PUNCT.sub("", phrase), _PUNCT.sub("", text)))


def clause_quote(text: str, start: int, end: int, *, max_chars: int = 80) -> tuple[int, int]:
    """The span of the clause or sentence around a match, kept short enough to read as evidence."""
    left, right = _clause_bounds(text, start, end)
    if right - left < 6:  # extend very short clauses to the sentence
        sentence_breaks = re.compile(r"[。！!？?；;\n]")
        left = max((m.end() for m in sentence_breaks.finditer(text, 0, start)), default=0)
        nxt = sentence_breaks.search(text, end)
        right = nxt.start() if nxt else len(text)
    if right - left > max_chars:
        left = max(left, start - max_chars // 2)
        right = min(right, left + max_chars)
    return left, right
