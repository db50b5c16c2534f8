"""Whether a match is asserted: negation, denial, reported speech and conditionals, without relying on punctuation.

Recognisers write no commas, so a clause ends at punctuation *or* at a clause cue (但是, 不过, 您就放心, 吧, 呢…),
and every look-around is bounded to a few characters either side of the match, which also keeps the cost of a
check linear in the length of a turn. The cue words live in knowledge/lexicons/scope_zh.yaml (versioned data,
hashed into every scorecard's version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.yamldoc import load_yaml

SCOPE_LEXICON = Path(__file__).resolve().parents[2] / "knowledge" / "lexicons" / "scope_zh.yaml"
_MASK = "\x00"  # stands in for masked idioms; never a cue or a negator


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class ScopeLexicon:
    """The compiled cue lists of one lexicon file."""

    punctuation: re.Pattern[str]
    cue: re.Pattern[str]
    multi_char_cue: re.Pattern[str]
    negator: re.Pattern[str]
    not_negating: re.Pattern[str]
    breaker: re.Pattern[str]
    denial: re.Pattern[str]
    reporting: re.Pattern[str]
    saying_after: re.Pattern[str]
    opener: re.Pattern[str]
    closer: re.Pattern[str]
    consequence: re.Pattern[str]
    request_negator: re.Pattern[str]
    request_verb: re.Pattern[str]
    negation_reach: int
    denial_reach: int
    reporting_reach: int
    conditional_reach: int
    request_gap: int
    request_reach: int
    quote_pairs: tuple[tuple[str, str], ...]
    quote_reach: int
    attribution: re.Pattern[str]
    first_person: re.Pattern[str]
    correction: re.Pattern[str]
    correction_reach: int
    question: re.Pattern[str]
    question_reach: int
    alternative: re.Pattern[str]

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ScopeLexicon:
        cues = list(doc["clause_cues"])
        return cls(
            punctuation=re.compile("[" + re.escape(doc["clause_punctuation"]) + "]"),
            cue=re.compile(_alternation(cues)),
            multi_char_cue=re.compile(_alternation([c for c in cues if len(c) > 1])),
            negator=re.compile(_alternation(doc["negators"])),
            not_negating=re.compile(_alternation(doc["not_negating"])),
            breaker=re.compile(_alternation(doc["negation_breakers"])),
            denial=re.compile(_alternation(doc["denials_after"])),
            reporting=re.compile(_alternation(doc["reporting"])),
            saying_after=re.compile(_alternation(doc["saying_after"])),
            opener=re.compile(_alternation(doc["conditional_openers"])),
            closer=re.compile(_alternation(doc["conditional_closers"])),
            consequence=re.compile(_alternation(doc["consequence_openers"])),
            request_negator=re.compile(_alternation(doc["request_negators"])),
            request_verb=re.compile(_alternation(doc["request_verbs"])),
            negation_reach=int(doc["negation_reach"]),
            denial_reach=int(doc["denial_reach"]),
            reporting_reach=int(doc["reporting_reach"]),
            conditional_reach=int(doc["conditional_reach"]),
            request_gap=int(doc["request_gap"]),
            request_reach=int(doc["request_reach"]),
            quote_pairs=tuple((pair[0], pair[1]) for pair in doc["quote_pairs"]),
            quote_reach=int(doc["quote_reach"]),
            attribution=re.compile(_alternation(doc["quote_attributions"])),
            first_person=re.compile("(?:" + _alternation(doc["first_person_before"]) + ")$"),
            correction=re.compile(_alternation(doc["corrections_after"])),
            correction_reach=int(doc["correction_reach"]),
            question=re.compile(_alternation(doc["question_openers"])),
            question_reach=int(doc["question_reach"]),
            alternative=re.compile("^(?:" + _alternation(doc["question_alternatives"]) + ")"),
        )


@lru_cache(maxsize=4)
def scope_lexicon(path: Path = SCOPE_LEXICON) -> ScopeLexicon:
    """The scope lexicon, read once."""
    return ScopeLexicon.from_document(load_yaml(path.read_text(encoding="utf-8"), packaged=path == SCOPE_LEXICON))


def _clause_before(text: str, start: int, reach: int, lex: ScopeLexicon, *, cues: bool = True) -> str:
    """Up to ``reach`` characters before ``start``, cut after the last punctuation or clause cue."""
    window = text[max(0, start - reach) : start]
    cut = max((m.end() for m in lex.punctuation.finditer(window)), default=0)
    if cues:
        cut = max([cut, *(m.end() for m in lex.cue.finditer(window))])
    return window[cut:]


def _clause_after(text: str, end: int, reach: int, lex: ScopeLexicon) -> str:
    """Up to ``reach`` characters after ``end`` (one leading punctuation skipped), cut at the next break."""
    window = text[end : end + reach + 1]
    if window[:1] and lex.punctuation.match(window):
        window = window[1:]
    stops = [m.start() for m in lex.punctuation.finditer(window)]
    stops += [m.start() for m in lex.multi_char_cue.finditer(window) if m.start() > 0]
    return window[: min(stops, default=len(window))]


def is_negated(text: str, start: int, end: int, lex: ScopeLexicon | None = None) -> bool:
    """True when the match at text[start:end] is negated before it or denied right after it."""
    lex = lex or scope_lexicon()
    # The negator may sit a few characters away: the window is the reach plus the longest negator.
    before = _clause_before(text, start, lex.negation_reach + 4, lex)
    before = lex.not_negating.sub(lambda m: _MASK * len(m.group(0)), before)
    for m in lex.negator.finditer(before):
        between = before[m.end() :]
        if len(between) <= lex.negation_reach and _MASK not in between and not lex.breaker.search(between):
            return True
    return _negated_request(text, start, lex) or bool(
        lex.denial.search(_clause_after(text, end, lex.denial_reach, lex))
    )


def _negated_request(text: str, start: int, lex: ScopeLexicon) -> bool:
    """A negated request verb governing the match from further away: "绝不会要求您提供短信验证码、密码或完整卡号"."""
    before = _clause_before(text, start, lex.request_reach + lex.request_gap + 4, lex)
    before = lex.not_negating.sub(lambda m: _MASK * len(m.group(0)), before)
    for m in lex.request_negator.finditer(before):
        verb = lex.request_verb.search(before, m.end())
        if (
            verb is not None
            and verb.start() - m.end() <= lex.request_gap
            and len(before) - verb.end() <= lex.request_reach
            and _MASK not in before[m.end() : verb.start()]
        ):
            return True
    return False


def is_reported(
    text: str, start: int, end: int, previous_customer: str | None, lex: ScopeLexicon | None = None
) -> bool:
    """True when the speaker is quoting, asking about or answering someone else's words rather than saying them."""
    lex = lex or scope_lexicon()
    before = _clause_before(text, start, lex.reporting_reach + 6, lex, cues=False)
    if (m := _last(lex.reporting, before)) is not None and len(before) - m.end() <= lex.reporting_reach:
        return True
    if is_quoted_away(text, start, end, lex) or is_questioned(text, start, end, lex):
        return True
    said = lex.saying_after.search(_clause_after(text, end, 10, lex))
    if said is not None and said.start() <= 4:
        return True
    phrase = text[start:end]
    # Echoing the customer's own question back ("保本的？") without asserting it.
    following = text[end : end + 1]
    return bool(
        previous_customer and len(phrase) >= 2 and phrase in previous_customer and following and following in "吗？?"
    )


def is_conditional(text: str, start: int, end: int, lex: ScopeLexicon | None = None) -> bool:
    """True when the match sits inside the condition of "如果…的话/就": a hypothesis, not an assertion."""
    lex = lex or scope_lexicon()
    before = _clause_before(text, start, lex.conditional_reach, lex, cues=False)
    opener = _last(lex.opener, before)
    if opener is None or lex.closer.search(before[opener.end() :]):
        return False
    after = _clause_after(text, end, lex.conditional_reach, lex)
    if lex.closer.search(after):
        return True
    # Written text often puts the consequence in the next clause: "如果您希望本金更有保障，也可以考虑存单".
    stop = lex.punctuation.search(text, end, end + lex.conditional_reach + 1)
    return stop is not None and bool(lex.consequence.match(text, stop.end()))


def is_questioned(text: str, start: int, end: int, lex: ScopeLexicon | None = None) -> bool:
    """True when the match sits in a yes/no question ("是否有人向您承诺过保本"): asking about it asserts nothing."""
    lex = lex or scope_lexicon()
    before = _clause_before(text, start, lex.question_reach, lex)
    if lex.question.search(before) is not None:
        return True
    # An alternative offered inside the same question ("有没有向您承诺收益，或者说不会亏损？") is asked too.
    if not lex.alternative.match(before):
        return False
    stop = _SENTENCE_END.search(text, end)
    if stop is None or stop.group(0) not in "？?":
        return False
    sentence = text[max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0) : start]
    return lex.question.search(sentence) is not None


_SENTENCE_END = re.compile(r"[。！!？?；;\n]")


def _quote_around(text: str, start: int, end: int, lex: ScopeLexicon) -> tuple[int, int] | None:
    """(opening mark, closing mark) of the quotation holding text[start:end], or None when it is not quoted."""
    for opening, closing in lex.quote_pairs:
        left = text.rfind(opening, max(0, start - lex.quote_reach), start)
        if left < 0:
            continue
        if opening == closing:  # straight quotes: inside when an odd number of marks precede the match
            if text.count(opening, 0, start) % 2 == 0:
                continue
        elif text.find(closing, left + 1, start) >= 0:
            continue
        right = text.find(closing, end, end + lex.quote_reach)
        if right >= 0:
            return left, right
    return None


def _attributed(before: str, lex: ScopeLexicon, *, reach: int) -> bool:
    """A third party's saying verb ends within ``reach`` characters of the end of ``before`` ("催收员说“",
    "经理讲过提前还款…"), not the speaker's own ("我跟您说“…”")."""
    verb = _last(lex.attribution, before)
    return (
        verb is not None
        and len(before) - verb.end() <= reach
        and lex.first_person.search(before[: verb.start()]) is None
    )


def _corrected_after(text: str, end: int, lex: ScopeLexicon) -> bool:
    """The rest of the sentence after ``end`` corrects or denies what came before ("这个说法不对", "谁也保证不了")."""
    stop = _SENTENCE_END.search(text, end, end + lex.correction_reach)
    rest = text[end : stop.start() if stop else end + lex.correction_reach]
    return lex.correction.search(rest) is not None


def is_quoted_away(text: str, start: int, end: int, lex: ScopeLexicon | None = None) -> bool:
    """True when the match is someone else's words held at a distance: quoted and attributed to a third party,
    or quoted (or reported after a saying verb) and corrected later in the sentence."""
    lex = lex or scope_lexicon()
    quote = _quote_around(text, start, end, lex)
    if quote is not None:
        opening, closing = quote
        # The saying verb ends where the quote opens (a colon or comma may stand between).
        if _attributed(text[max(0, opening - 12) : opening], lex, reach=1):
            return True
        # A run of quotes ("“肯定批”“包在我身上”谁也保证不了"): the correction follows the last of them.
        closers = dict(lex.quote_pairs)
        after = closing + 1
        while after < len(text) and text[after] in closers:
            nxt = text.find(closers[text[after]], after + 1, after + 1 + lex.quote_reach)
            if nxt < 0:
                break
            after = nxt + 1
        return _corrected_after(text, after, lex)
    before = _clause_before(text, start, lex.reporting_reach + 6, lex, cues=False)
    reported = (m := _last(lex.reporting, before)) is not None and len(before) - m.end() <= lex.reporting_reach
    return (reported or _attributed(before, lex, reach=lex.reporting_reach)) and _corrected_after(text, end, lex)


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for m in pattern.finditer(text):
        found = m
    return found


def clause_bounds(text: str, start: int, end: int, lex: ScopeLexicon | None = None) -> tuple[int, int]:
    """The written clause around a match: from the punctuation before it to the punctuation after it."""
    lex = lex or scope_lexicon()
    left = max((m.end() for m in lex.punctuation.finditer(text, max(0, start - 200), start)), default=0)
    right_match = lex.punctuation.search(text, end, end + 200)
    return left, right_match.start() if right_match else min(len(text), end + 200)
