"""Text matching for Chinese transcripts: rule-pack patterns (RE2), scoped negation and reported speech, windows.

Pack patterns come from tenants and are compiled with RE2 (linear time, no backtracking); the scope of a match
(negated, denied, reported, conditional) is decided by tools/rules/scope.py from bounded windows, so the work per
turn grows linearly with its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import re2
from rapidfuzz import fuzz

from core.models import Conversation, Role, Utterance
from core.scorecard import Matcher, PackPattern, Window, compile_pattern, pattern_options
from tools.rules.scope import clause_bounds, is_conditional, is_negated, is_reported

# Per pattern and turn: enough accepted hits for evidence, and a bound on candidates examined (a turn of
# '保本保本…' would otherwise have every one of its matches scoped).
MAX_HITS_PER_PATTERN = 3
MAX_CANDIDATES_PER_PATTERN = 200

__all__ = [
    "Hit",
    "clause_quote",
    "compiled",
    "find_hits",
    "fuzzy_score",
    "is_negated",
    "is_reported",
    "matches",
    "window_turns",
]


@dataclass(frozen=True, slots=True)
class Hit:
    """A pattern match inside one turn."""

    turn: int
    start: int
    end: int


def compiled(pattern: str) -> PackPattern:
    """A rule-pack pattern compiled with RE2 (cached)."""
    return compile_pattern(pattern)


class PatternSet:
    """A check's patterns in one RE2 set: one scan of a turn tells which of them match anywhere in it, so the turns
    none can match (most turns) are skipped and only the matching patterns are run for their spans.

    A set runs one forward DFA in "many match" mode, which finds no match positions: it needs neither the reverse
    automaton nor the per-pattern state a single alternation of all the patterns builds to locate a match, so its
    automaton stays small (the pack's alternations held ~20 MB of DFA states per process), and in that mode RE2
    never gives up on a turn (it resets its state cache and goes on), so a skipped pattern is one that cannot
    match, whatever the text."""

    __slots__ = ("_set",)

    def __init__(self, patterns: Sequence[str], *, max_mem: int | None = None) -> None:
        options = pattern_options()
        if max_mem is not None:  # RE2's budget for the compiled set and its automaton (default 8 MB)
            options.max_mem = max_mem
        self._set = re2.Set.SearchSet(options)
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()

    def matching(self, text: str) -> list[int]:
        """Indexes (ascending) of the patterns that match somewhere in `text`."""
        found = self._set.Match(text)
        return sorted(found) if found else []


@lru_cache(maxsize=4096)
def pattern_set(patterns: tuple[str, ...]) -> PatternSet | None:
    """The prefilter of a check's patterns; None for a single pattern (it is its own prefilter) or when RE2 cannot
    build the set (the patterns are then tried one by one, as always, and a bad one fails loudly there)."""
    if len(patterns) < 2:
        return None
    try:
        return PatternSet(patterns)
    except re2.error:
        return None


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
    """Matches of any pattern in the eligible turns, after negation, conditional and quoting filters."""
    eligible = range(len(conversation.turns)) if turns is None else turns
    prefilter = pattern_set(tuple(patterns))
    hits: list[Hit] = []
    for index in eligible:
        turn = conversation.turns[index]
        if role is not None and turn.role is not role:
            continue
        text = turn.text
        candidates = patterns if prefilter is None else [patterns[i] for i in prefilter.matching(text)]
        if not candidates:
            continue
        if unless and any(compiled(p).search(text) for p in unless):
            continue
        previous_customer = _previous_text(conversation.turns, index, Role.CUSTOMER) if skip_reported else None
        for pattern in candidates:
            accepted = 0
            for examined, m in enumerate(compiled(pattern).finditer(text)):
                if examined >= MAX_CANDIDATES_PER_PATTERN or accepted >= MAX_HITS_PER_PATTERN:
                    break
                start, end = m.start(), m.end()
                if end == start:
                    continue
                if negation_aware and (is_negated(text, start, end) or is_conditional(text, start, end)):
                    continue
                if skip_reported and is_reported(text, start, end, previous_customer):
                    continue
                hits.append(Hit(index, start, end))
                accepted += 1
    return hits


def matches(conversation: Conversation, matcher: Matcher, *, turns: Iterable[int] | None = None) -> list[Hit]:
    """Hits of a Matcher; negation-aware unless the matcher says the negated form is the event itself."""
    return find_hits(
        conversation, matcher.patterns, role=matcher.role, turns=turns, negation_aware=matcher.negation_aware
    )


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


_SENTENCE_BREAK = re.compile(r"[。！!？?；;\n]")


def clause_quote(text: str, start: int, end: int, *, max_chars: int = 80) -> tuple[int, int]:
    """The span of the clause or sentence around a match, kept short enough to read as evidence."""
    left, right = clause_bounds(text, start, end)
    if right - left < 6:  # extend very short clauses to the sentence
        floor = max(0, start - 200)
        left = max((m.end() for m in _SENTENCE_BREAK.finditer(text, floor, start)), default=floor)
        nxt = _SENTENCE_BREAK.search(text, end, end + 200)
        right = nxt.start() if nxt else min(len(text), end + 200)
    if right - left > max_chars:
        left = max(left, start - max_chars // 2)
        right = min(right, left + max_chars)
    return left, right
