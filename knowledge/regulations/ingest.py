"""Indexing the regulation corpus: LlamaIndex documents → article nodes → embeddings → Qdrant.

Idempotent: a chunk whose text is unchanged is not embedded again; a changed chunk replaces the old
one; chunks that left the corpus are deleted. Running it on an unchanged corpus embeds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from llama_index.core import Document
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, TextNode
from qdrant_client import models

from knowledge.regulations.parse import CATALOG, Regulation, chunk_article, load_catalog, parse_articles
from tools.regulations import ALL_SCENARIOS, DENSE, SPARSE, RegulationIndex, point_id

Progress = Callable[[int, int], None]
_META_KEYS = ("title", "short", "issuer", "kind", "effective", "scenarios", "path")


class ArticleNodeParser(NodeParser):
    """Splits a regulation Document into nodes by article (章/节/第X条), long articles by 款/项."""

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for document in nodes:
            meta = document.metadata
            regulation = Regulation(
                path=Path(meta["path"]),
                title=meta["title"],
                short=meta["short"],
                issuer=meta["issuer"],
                kind=meta["kind"],
                effective=date.fromisoformat(meta["effective"]),
                scenarios=tuple(meta["scenarios"]),
            )
            for article in parse_articles(regulation, document.get_content()):
                for chunk in chunk_article(article):
                    payload = {
                        "clause_id": article.clause_id,
                        "chunk_id": chunk.chunk_id,
                        "part": chunk.part,
                        "regulation": regulation.short,
                        "title": regulation.title,
                        "issuer": regulation.issuer,
                        "kind": regulation.kind,
                        "effective": int(regulation.effective.strftime("%Y%m%d")),
                        "effective_date": regulation.effective.isoformat(),
                        "chapter": article.chapter,
                        "section": article.section,
                        "article": article.label,
                        "article_number": article.number,
                        "scenarios": list(regulation.scenarios) or [ALL_SCENARIOS],
                        "text": chunk.text,
                        "content_hash": chunk.content_hash,
                    }
                    out.append(
                        TextNode(
                            id_=point_id(chunk.chunk_id),
                            text=chunk.embed_text,
                            metadata=payload,
                            excluded_embed_metadata_keys=list(payload),  # embed_text already says where it is from
                            excluded_llm_metadata_keys=list(payload),
                        )
                    )
        return out


def corpus_documents(corpus_dir: Path, catalog: Path = CATALOG) -> list[Document]:
    """One LlamaIndex Document per regulation file, with its catalog metadata."""
    return [
        Document(
            text=r.path.read_text(encoding="utf-8"),
            metadata={
                "title": r.title,
                "short": r.short,
                "issuer": r.issuer,
                "kind": r.kind,
                "effective": r.effective.isoformat(),
                "scenarios": list(r.scenarios),
                "path": str(r.path),
            },
            excluded_embed_metadata_keys=list(_META_KEYS),
        )
        for r in load_catalog(corpus_dir, catalog)
    ]


@dataclass(frozen=True)
class IngestReport:
    chunks: int
    embedded: int
    removed: int
    unchanged: int
    seconds: float


def _stored_hashes(index: RegulationIndex) -> dict[str, str]:
    """point id → content hash of everything in the collection."""
    stored: dict[str, str] = {}
    offset = None
    while True:
        points, offset = index.client.scroll(
            index.collection, limit=1024, offset=offset, with_payload=["content_hash"], with_vectors=False
        )
        stored.update({str(p.id): (p.payload or {}).get("content_hash", "") for p in points})
        if offset is None:
            return stored


def ingest_corpus(
    index: RegulationIndex, corpus_dir: Path, *, progress: Progress | None = None, batch_size: int = 32
) -> IngestReport:
    """Bring the collection in line with the corpus folder; `progress(done, total)` is called per batch."""
    started = time.perf_counter()
    nodes = [n for n in ArticleNodeParser().get_nodes_from_documents(corpus_documents(corpus_dir))]
    dimension = len(index.embed_model.get_query_embedding("维度"))
    index.ensure_collection(dimension)
    stored = _stored_hashes(index)
    todo = [n for n in nodes if stored.get(n.node_id) != n.metadata["content_hash"]]
    stale = sorted(set(stored) - {n.node_id for n in nodes})
    if stale:
        index.client.delete(index.collection, points_selector=models.PointIdsList(points=stale))
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        vectors = index.embed_model.get_text_embedding_batch([n.get_content() for n in batch])
        points = []
        for node, dense in zip(batch, vectors, strict=True):
            indices, values = index.encoder.encode_document(node.get_content())
            points.append(
                models.PointStruct(
                    id=node.node_id,
                    vector={DENSE: dense, SPARSE: models.SparseVector(indices=indices, values=values)},
                    payload=node.metadata,
                )
            )
        index.client.upsert(index.collection, points=points)
        if progress:
            progress(min(start + batch_size, len(todo)), len(todo))
    return IngestReport(
        chunks=len(nodes),
        embedded=len(todo),
        removed=len(stale),
        unchanged=len(nodes) - len(todo),
        seconds=round(time.perf_counter() - started, 2),
    )
