"""A Mandarin reading of regional speech for the rule tier and tier 1 (knowledge/lexicons/dialect_zh.yaml).

The rules' patterns and cue words are Mandarin; the reading replaces Cantonese and northern function words
("唔" → "不", "冇" → "没", "我系" → "我是", "俺" → "我") with same-length Mandarin, so every offset in a turn stays
valid and evidence is still quoted from what was said.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from core.models import Conversation
from core.yamldoc import load_yaml

DIALECT_LEXICON = Path(__file__).resolve().parents[1] / "knowledge" / "lexicons" / "dialect_zh.yaml"


class _Reading:
    def __init__(self, path: Path) -> None:
        data = load_yaml(path.read_text(encoding="utf-8"), packaged=path == DIALECT_LEXICON)
        words: dict[str, str] = data["words"]
        chars: dict[str, str] = data["chars"]
        for source, target in [*words.items(), *chars.items()]:
            if len(source) != len(target):
                raise ValueError(f"{path}: {source!r} → {target!r} changes the length of the text")
        self.words = words
        self.word_pattern = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
        self.table = str.maketrans(chars)
        self.copula = re.compile(f"(?<=[{re.escape(data['copula_after'])}])[系係]")
        self.trigger = re.compile(
            "[" + re.escape("".join({c for w in words for c in w} | set(chars) | {"系", "係"})) + "]"
        )

    def read(self, text: str) -> str:
        if not self.trigger.search(text):
            return text
        text = self.word_pattern.sub(lambda m: self.words[m.group(0)], text)
        text = self.copula.sub("是", text)
        return text.translate(self.table)


@lru_cache(maxsize=1)
def _reading() -> _Reading:
    return _Reading(DIALECT_LEXICON)


def mandarin_reading(text: str) -> str:
    """The text with regional function words read as Mandarin, the same length as the text."""
    return _reading().read(text)


def conversation_reading(conversation: Conversation) -> Conversation:
    """The conversation as the rules read it (the same object when nothing in it is regional)."""
    turns = [(turn, mandarin_reading(turn.text)) for turn in conversation.turns]
    if all(read == turn.text for turn, read in turns):
        return conversation
    return conversation.model_copy(
        update={
            "turns": [turn if read == turn.text else turn.model_copy(update={"text": read}) for turn, read in turns]
        }
    )
