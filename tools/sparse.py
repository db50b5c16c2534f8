"""BM25-style sparse vectors from jieba tokens, for Qdrant's sparse index (which applies the IDF).

Documents carry BM25's saturated term frequency with length normalisation; queries carry 1 per term.
Term ids are a stable hash of the token, so no vocabulary needs to be stored or shared.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "或",
        "及",
        "等",
        "其",
        "对",
        "为",
        "以",
        "于",
        "由",
        "把",
        "被",
        "将",
        "就",
        "也",
        "都",
        "而",
        "之",
        "者",
        "所",
        "该",
        "这",
        "那",
        "有",
        "无",
        "不",
        "应当",
        "可以",
        "依照",
        "按照",
        "本法",
        "规定",
        "有关",
        "一",
        "个",
        "我",
        "你",
        "您",
        "他",
        "她",
        "吗",
        "呢",
        "吧",
        "啊",
        "嘛",
    ]
)
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


@dataclass
class SparseEncoder:
    """BM25 document/query encoder; k1 and b are the usual BM25 parameters, avgdl a corpus-typical length."""

    k1: float = 1.2
    b: float = 0.75
    avgdl: float = 60.0
    _cut: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from tools.segment import tokenizer

        self._cut = tokenizer().cut_for_search

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens (long words also yield their parts), without punctuation and stop words."""
        return [
            t.lower()
            for t in self._cut(text)  # type: ignore[operator]
            if _WORD.search(t) and t not in _STOPWORDS and not t.isspace()
        ]

    @staticmethod
    def term_id(token: str) -> int:
        return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF

    def encode_document(self, text: str) -> tuple[list[int], list[float]]:
        counts = Counter(self.term_id(t) for t in self.tokens(text))
        length = sum(counts.values()) or 1
        norm = self.k1 * (1 - self.b + self.b * length / self.avgdl)
        items = sorted(counts.items())
        return [i for i, _ in items], [tf * (self.k1 + 1) / (tf + norm) for _, tf in items]

    def encode_query(self, text: str) -> tuple[list[int], list[float]]:
        ids = sorted({self.term_id(t) for t in self.tokens(text)})
        return ids, [1.0] * len(ids)
