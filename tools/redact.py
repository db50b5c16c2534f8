"""PII redaction before anything is stored or sent to a model; the mapping stays local.

Text is first normalised (NFKC, zero-width characters removed, spaces between CJK characters dropped), then
resident ID numbers, bank cards, mobiles and landlines (written, grouped or spoken: 幺三八…), e-mail addresses
(also read out: "at/dot", 艾特), person names and home addresses (LAC NER on cued sentences) are replaced by
placeholders. The same value gets the same placeholder across a conversation, so evidence quotes stay readable
("客户报了[银行卡号#1]"). Short numbers such as "后四位是0326" in an identity check are kept: rules rely on them.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.models import Conversation
from tools.ner import EntityTagger, default_tagger
from tools.normalize import normalize_text
from tools.redaction.checksums import is_valid_id_number, passes_luhn
from tools.redaction.contacts import find_emails
from tools.redaction.kinds import PiiKind, PiiSpan, PiiVault
from tools.redaction.numbers import find_numbers
from tools.redaction.people import find_people

__all__ = [
    "PiiKind",
    "PiiSpan",
    "PiiVault",
    "find_pii",
    "is_valid_id_number",
    "passes_luhn",
    "redact_conversation",
    "redact_text",
    "redact_texts",
]

# Where two findings overlap, the more specific one wins: an e-mail holds digits, an address holds numbers.
_PRECEDENCE = {
    PiiKind.EMAIL: 0,
    PiiKind.ID_NUMBER: 1,
    PiiKind.BANK_CARD: 1,
    PiiKind.MOBILE: 1,
    PiiKind.LANDLINE: 1,
    PiiKind.ADDRESS: 2,
    PiiKind.NAME: 3,
}


def _resolve(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Non-overlapping spans, preferring specific kinds, then longer spans."""
    chosen: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (_PRECEDENCE[s.kind], s.start - s.end, s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def find_pii(texts: Sequence[str], *, tagger: EntityTagger | None = None) -> list[list[PiiSpan]]:
    """The personal data in each of ``texts`` (already normalised), as non-overlapping spans in text order."""
    people = find_people(texts, tagger or default_tagger())
    return [_resolve([*find_emails(t), *find_numbers(t), *found]) for t, found in zip(texts, people, strict=True)]


def _replace(text: str, spans: list[PiiSpan], vault: PiiVault) -> str:
    for span in reversed(spans):
        text = text[: span.start] + vault.placeholder(span.kind, span.value) + text[span.end :]
    return text


def redact_texts(texts: Sequence[str], vault: PiiVault, *, tagger: EntityTagger | None = None) -> list[str]:
    """Normalise each text and replace its personal data by placeholders from ``vault``."""
    normalised = [normalize_text(t) for t in texts]
    return [_replace(t, spans, vault) for t, spans in zip(normalised, find_pii(normalised, tagger=tagger), strict=True)]


def redact_text(text: str, vault: PiiVault, *, tagger: EntityTagger | None = None) -> str:
    """Replace every PII value in ``text`` (normalised first) by its placeholder from ``vault``."""
    return redact_texts([text], vault, tagger=tagger)[0]


def redact_conversation(
    conversation: Conversation, *, tagger: EntityTagger | None = None
) -> tuple[Conversation, PiiVault]:
    """A copy of the conversation, normalised and with PII replaced, and the vault that can restore it."""
    vault = PiiVault()
    texts = redact_texts([t.text for t in conversation.turns], vault, tagger=tagger)
    turns = [t.model_copy(update={"text": text}) for t, text in zip(conversation.turns, texts, strict=True)]
    return conversation.model_copy(update={"turns": turns}), vault
