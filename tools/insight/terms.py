"""Tokens and distinctive terms (class-based TF-IDF over jieba tokens) for labelling groups of texts."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cache
from pathlib import Path

from tools.segment import tokenizer

_STOPWORDS_FILE = Path(__file__).resolve().parent / "stopwords_zh.txt"
_PLACEHOLDER = re.compile(r"\[[^\]]*#\d+\]")  # redacted PII such as [银行卡号#1]
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]")


@cache
def stopwords() -> frozenset[str]:
    """The stopword list shipped beside this module."""
    words: set[str] = set()
    for line in _STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


def tokens(text: str) -> list[str]:
    """Content tokens of a text: jieba words of ≥ 2 characters, no stopwords, numbers or PII placeholders."""
    stop = stopwords()
    cleaned = _PLACEHOLDER.sub(" ", text)
    return [
        word.lower()
        for word in tokenizer().lcut(cleaned)
        if len(word.strip()) >= 2 and _WORDLIKE.search(word) and not word.isdigit() and word.lower() not in stop
    ]


def distinctive_terms(groups: list[list[str]], *, top: int = 5) -> list[list[str]]:
    """For each group of texts, the terms most specific to it (c-TF-IDF: term frequency in the group times
    log(1 + mean group size / the term's frequency over all groups))."""
    counts = [Counter(token for text in texts for token in tokens(text)) for texts in groups]
    overall: Counter[str] = Counter()
    for group in counts:
        overall.update(group)
    average = sum(overall.values()) / max(len(counts), 1)
    labelled = []
    for group in counts:
        size = sum(group.values()) or 1
        scored = {term: (n / size) * math.log(1 + average / overall[term]) for term, n in group.items() if n >= 2}
        if not scored:  # tiny groups: any term counts
            scored = {term: (n / size) * math.log(1 + average / overall[term]) for term, n in group.items()}
        labelled.append([term for term, _ in sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:top]])
    return labelled
