"""Features of a unit: TF-IDF over character n-grams of the turn, and embeddings of the turn and its context.

Inference needs only numpy: the vocabulary and idf weights are stored in the artifact and applied here exactly
as scikit-learn's TfidfVectorizer (sublinear tf, l2 norm) applies them at training time."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tools.small_model.text import char_ngrams

Matrix = npt.NDArray[np.float32]


class NgramWeights:
    """Sparse TF-IDF rows as (column index, weight) lists, from a fixed vocabulary and idf."""

    def __init__(self, vocabulary: dict[str, int], idf: npt.NDArray[np.float32]) -> None:
        self.vocabulary = vocabulary
        self.idf = idf

    def rows(self, texts: Sequence[str]) -> list[tuple[npt.NDArray[np.int64], Matrix]]:
        """One (columns, l2-normalised weights) pair per text."""
        out = []
        for text in texts:
            columns: list[int] = []
            weights: list[float] = []
            for gram, count in char_ngrams(text).items():
                column = self.vocabulary.get(gram)
                if column is not None:
                    columns.append(column)
                    weights.append((1.0 + math.log(count)) * float(self.idf[column]))
            w = np.asarray(weights, dtype=np.float32)
            norm = float(np.linalg.norm(w))
            out.append((np.asarray(columns, dtype=np.int64), w / norm if norm > 0 else w))
        return out

    def scores(self, texts: Sequence[str], coef: Matrix) -> Matrix:
        """Row-wise dot products of the TF-IDF vectors with `coef` (vocabulary × outputs)."""
        result = np.zeros((len(texts), coef.shape[1]), dtype=np.float32)
        for i, (columns, weights) in enumerate(self.rows(texts)):
            if len(columns):
                result[i] = weights @ coef[columns]
        return result
