"""Text normalisation applied to every turn before redaction and rule matching.

Full-width forms become ASCII (NFKC), zero-width and other invisible format characters are removed,
and white space between two CJK characters is dropped ("保 本" → "保本"), so that spacing tricks can
neither hide a forbidden phrase nor a personal number.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi format characters (Unicode category Cf) carry no text of their own.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
_RUNS_OF_SPACE = re.compile(r"[ \t\u3000]{2,}")


def normalize_text(text: str) -> str:
    """NFKC, invisible characters removed, spaces between CJK characters dropped, space runs folded."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    return _RUNS_OF_SPACE.sub(" ", text).strip()
