"""An ASR-style copy of a written transcript, to measure how rules hold up on recogniser output.

Speech recognisers emit no punctuation and no "——", keep the speaker's fillers (嗯, 那个, 就是, 然后) and
confuse a few homophones (您/你, 账/帐, 做/作). ``asr_style`` applies exactly those changes, deterministically
(seeded by the conversation id and turn index), and keeps every turn's times, so a labelled set can be scored
twice — as written and as a recogniser would have written it — and the loss read off the difference.
"""

from __future__ import annotations

import random
import re

from core.models import Conversation, Utterance

FILLERS = ("嗯", "那个", "就是", "然后")
# (written, as a recogniser often writes it): each occurrence is swapped with probability HOMOPHONE_RATE.
HOMOPHONES: tuple[tuple[str, str], ...] = (
    ("您", "你"),
    ("账", "帐"),
    ("其他", "其它"),
    ("登录", "登陆"),
    ("做", "作"),
    ("再说", "在说"),
)
HOMOPHONE_RATE = 0.5
FILLER_RATE = 0.35  # per clause boundary, and once at the start of a turn
# Clause and sentence punctuation, dashes and ellipses: what a recogniser never writes.
_BREAK = re.compile(r"[，,。.！!？?；;：:、…—\-~～]+")
_QUOTES = re.compile(r"[“”\"'‘’（）()《》【】\[\]]")


def _swap_homophones(text: str, rng: random.Random) -> str:
    for written, heard in HOMOPHONES:
        parts = text.split(written)
        if len(parts) == 1:
            continue
        out = [parts[0]]
        for part in parts[1:]:
            out.append(heard if rng.random() < HOMOPHONE_RATE else written)
            out.append(part)
        text = "".join(out)
    return text


def asr_text(text: str, rng: random.Random) -> str:
    """One turn's text as a recogniser might have produced it (no punctuation, fillers, homophones)."""
    text = _QUOTES.sub("", text)
    clauses = [c.strip() for c in _BREAK.split(text) if c.strip()]
    pieces: list[str] = []
    for number, clause in enumerate(clauses):
        if rng.random() < FILLER_RATE and not (number == 0 and len(clause) <= 2):
            pieces.append(rng.choice(FILLERS))
        pieces.append(clause)
    spoken = "".join(pieces)
    return _swap_homophones(spoken, rng) or text


def asr_style(conversation: Conversation) -> Conversation:
    """A copy of the conversation with every turn rewritten by ``asr_text``; ids, roles and times are kept."""
    turns = []
    for turn in conversation.turns:
        rng = random.Random(f"asr-style:{conversation.id}:{turn.index}")
        text = asr_text(turn.text, rng)
        turns.append(Utterance(index=turn.index, role=turn.role, text=text, start=turn.start, end=turn.end))
    return conversation.model_copy(update={"turns": turns})
