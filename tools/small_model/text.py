"""Text normalisation and character n-grams shared by training and inference (so both see the same features)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from tools.dialect import mandarin_reading

# Punctuation and spacing carry no meaning an ASR transcript can be relied on to keep, so features ignore them.
_NOISE = re.compile(r"[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~…—–·•“”‘’]+")
# Hesitation sounds a recogniser inserts; they never decide a verdict. (Not 唔: in Cantonese it is "not", and
# the Mandarin reading below turns it into 不 before this runs.)
_FILLERS = re.compile(r"[嗯呃]+")

# Characters a recogniser writes interchangeably (and writers too): folded to one form.
_FOLD = str.maketrans({"您": "你", "帐": "账", "它": "他", "作": "做"})
NGRAM_RANGE = (1, 3)


def normalize(text: str) -> str:
    """Width-folded, lower-cased text in its Mandarin reading (tools/dialect.py), without punctuation, spaces or
    hesitation sounds."""
    folded = mandarin_reading(unicodedata.normalize("NFKC", text)).lower()
    return _FILLERS.sub("", _NOISE.sub("", folded)).translate(_FOLD)


def char_ngrams(text: str, ngram_range: tuple[int, int] = NGRAM_RANGE) -> Counter[str]:
    """Counts of the character n-grams of the normalised text."""
    chars = normalize(text)
    low, high = ngram_range
    counts: Counter[str] = Counter()
    for n in range(low, high + 1):
        for i in range(len(chars) - n + 1):
            counts[chars[i : i + n]] += 1
    return counts


def analyzer(text: str) -> list[str]:
    """The n-grams as a token list (the form scikit-learn's vectorisers accept as `analyzer`)."""
    return list(char_ngrams(text).elements())
