"""Recall and false redactions of PII detection on a labelled set (tests/data/pii/pii_set.jsonl).

An expected number is caught when every digit of it lies inside a found span of the same kind; a name or e-mail
when all of it does; an address when at least 80% of its characters do (a leftover city or district name alone
identifies nobody). A look-alike item (no expected span) is falsely redacted when anything in it is replaced.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from tools.ner import EntityTagger
from tools.normalize import normalize_text
from tools.redaction.kinds import PiiKind, PiiSpan

_NUMBER_KINDS = {PiiKind.ID_NUMBER, PiiKind.BANK_CARD, PiiKind.MOBILE, PiiKind.LANDLINE}
_DIGIT_CHARS = set("0123456789Xx零〇洞幺一二两三四五六七八九")
_ADDRESS_COVERAGE = 0.8


class ExpectedSpan(BaseModel):
    """One labelled piece of personal data: ``text[start:end]``, its kind and how it was written."""

    kind: PiiKind
    start: int
    end: int
    form: str  # written | spoken | name | address


class PiiItem(BaseModel):
    """A labelled text; no spans means a look-alike that must stay untouched."""

    id: str
    text: str
    spans: list[ExpectedSpan]


@dataclass
class PiiAccuracy:
    """Counts behind the figures; ``missed`` and ``false`` name the items for inspection."""

    caught: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    lookalikes: int = 0
    false_redactions: int = 0
    spurious_spans: int = 0
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def recall(self, keys: Iterable[str]) -> float:
        """Share of expected spans caught over the given keys (kinds like '手机号' or forms like 'form:written')."""
        keys = list(keys)
        total = sum(self.total[k] for k in keys)
        return sum(self.caught[k] for k in keys) / total if total else 1.0

    @property
    def kinds(self) -> list[str]:
        """The kinds present in the set, in PiiKind order."""
        return [k.value for k in PiiKind if self.total[k.value]]

    @property
    def overall_recall(self) -> float:
        """Recall over every expected span."""
        return self.recall(self.kinds)

    @property
    def written_recall(self) -> float:
        """Recall over spans in written form (digits and e-mail as typed: plain, grouped, full-width, +86)."""
        return self.recall(["form:written"])

    @property
    def false_redaction_rate(self) -> float:
        """Share of look-alike items in which anything was replaced."""
        return self.false_redactions / self.lookalikes if self.lookalikes else 0.0


def load_items(path: Path) -> list[PiiItem]:
    """The labelled items of a JSONL file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [PiiItem.model_validate(json.loads(line)) for line in lines if line.strip()]


def _caught(expected: ExpectedSpan, text: str, found: list[PiiSpan]) -> bool:
    covered = {i for s in found if s.kind is expected.kind for i in range(s.start, s.end)}
    positions = range(expected.start, expected.end)
    if expected.kind in _NUMBER_KINDS:
        return all(i in covered for i in positions if text[i] in _DIGIT_CHARS)
    if expected.kind is PiiKind.ADDRESS:
        return sum(i in covered for i in positions) >= _ADDRESS_COVERAGE * len(positions)
    return all(i in covered for i in positions)


def _normalised(item: PiiItem) -> tuple[str, list[ExpectedSpan]]:
    """The item's text as redaction sees it, with the spans moved onto it."""
    text = normalize_text(item.text)
    spans, cursor = [], 0
    for span in item.spans:
        piece = normalize_text(item.text[span.start : span.end])
        start = text.find(piece, cursor)
        if start < 0:
            raise ValueError(f"{item.id}: span {piece!r} not found after normalisation")
        spans.append(span.model_copy(update={"start": start, "end": start + len(piece)}))
        cursor = start + len(piece)
    return text, spans


def measure(items: Iterable[PiiItem], *, tagger: EntityTagger | None = None) -> PiiAccuracy:
    """Run PII detection on every item and count what was caught, missed and wrongly replaced."""
    from tools.redact import find_pii  # the facade imports this package; import it when measuring only

    result = PiiAccuracy()
    for item in items:
        text, expected = _normalised(item)
        found = find_pii([text], tagger=tagger)[0]
        if not expected:
            result.lookalikes += 1
            if found:
                result.false_redactions += 1
                result.false.append(f"{item.id}: {text} -> {[text[s.start : s.end] for s in found]}")
            continue
        for span in expected:
            hit = _caught(span, text, found)
            for key in (span.kind.value, f"form:{span.form}"):
                result.total[key] += 1
                result.caught[key] += hit
            if not hit:
                result.missed.append(
                    f"{item.id} {span.kind.value}: {text} -> {[(s.kind.value, s.value) for s in found]}"
                )
        for extra in found:
            if all(extra.end <= e.start or extra.start >= e.end for e in expected):
                result.spurious_spans += 1
                result.false.append(f"{item.id} (extra {extra.kind.value}): {text[extra.start : extra.end]}")
    return result
