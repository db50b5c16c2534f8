"""Features of a unit: TF-IDF over character n-grams of the turn, and embeddings of the turn and its context.

Inference needs only numpy: the vocabulary and idf weights are stored in the artifact and applied here exactly
as scikit-learn's TfidfVectorizer (sublinear tf, l2 norm) applies them at training time."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tools.small_model.text import char_ngrams

Matrix = npt.NDArray[np.float32]


class NgramWeights:
    """Sparse TF-IDF rows as (column index, weight) lists, from a fixed vocabulary and idf."""

    def __init__(self, vocabulary: dict[str, int], idf: npt.NDArray[np.float32]) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self._idf64 = idf.astype(np.float64)
        # A turn is scored as a text and again as the next turn's context, and short turns ("好的") recur across
        # calls: a row is computed once per text (read-only arrays, shared by every caller). 4,096 rows hold the
        # recent turns and the labelled examples of the codes that fail most (searched for every explanation).
        self._row = lru_cache(maxsize=4_096)(self.compute_row)  # ~1.1 KB a row: at most ~4.5 MB

    def rows(self, texts: Sequence[str]) -> list[tuple[npt.NDArray[np.int64], Matrix]]:
        """One (columns, l2-normalised weights) pair per text."""
        return [self._row(text) for text in texts]

    def compute_row(self, text: str) -> tuple[npt.NDArray[np.int64], Matrix]:
        """The (columns, weights) of one text, uncached (for texts scored once, e.g. a model's examples)."""
        get = self.vocabulary.get
        columns: list[int] = []
        counts: list[int] = []
        for gram, count in char_ngrams(text).items():
            column = get(gram)
            if column is not None:
                columns.append(column)
                counts.append(count)
        index = np.asarray(columns, dtype=np.int64)
        w = ((1.0 + np.log(np.asarray(counts, dtype=np.float64))) * self._idf64[index]).astype(np.float32)
        norm = float(np.linalg.norm(w))
        if norm > 0:
            w = w / norm
        index.setflags(write=False)
        w.setflags(write=False)
        return index, w

    def scores(self, texts: Sequence[str], coef: Matrix) -> Matrix:
        """Row-wise dot products of the TF-IDF vectors with `coef` (vocabulary × outputs)."""
        result = np.zeros((len(texts), coef.shape[1]), dtype=np.float32)
        for i, (columns, weights) in enumerate(self.rows(texts)):
            if len(columns):
                result[i] = weights @ coef[columns]
        return result
