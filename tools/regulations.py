"""Regulation retrieval over Qdrant: dense (e5), sparse (BM25 over jieba tokens), or both fused with RRF.

`RegulationIndex` owns the collection schema (also used by ingestion); `search_regulations` is the tool
the agents call, also usable directly.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any, Literal

from langchain_core.tools import StructuredTool
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import BaseModel, Field
from qdrant_client import QdrantClient, models

from core.models import Citation
from tools.regulation_query import RegulationFilter, SearchMode
from tools.sparse import SparseEncoder

DENSE = "dense"
SPARSE = "bm25"
__all__ = ["RegulationFilter", "RegulationIndex", "SearchMode", "regulation_search_tool", "search_regulations"]

SCHEMA_VERSION = 1
ALL_SCENARIOS = "*"
_POINT_NAMESPACE = uuid.UUID("3a6f0e1c-7d52-4b8e-9a41-52c0f0b7d9e3")


def collection_name(model_name: str) -> str:
    """Versioned by schema and embedding model: changing either builds a new collection beside the old."""
    return f"regulations-v{SCHEMA_VERSION}-{re.sub(r'[^a-z0-9]+', '-', model_name.lower()).strip('-')}"


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, chunk_id))


def _to_filter(filters: RegulationFilter | None) -> models.Filter | None:
    if filters is None:
        return None
    must: list[models.Condition] = []
    if filters.regulations:
        must.append(models.FieldCondition(key="regulation", match=models.MatchAny(any=filters.regulations)))
    if filters.scenario:
        must.append(
            models.FieldCondition(key="scenarios", match=models.MatchAny(any=[filters.scenario, ALL_SCENARIOS]))
        )
    if filters.effective_on:
        stamp = int(filters.effective_on.strftime("%Y%m%d"))
        must.append(models.FieldCondition(key="effective", range=models.Range(lte=stamp)))
    return models.Filter(must=must) if must else None


def _citation(
    payload: dict[str, Any], *, source: Literal["rule", "retrieval"], score: float | None, text: str | None = None
) -> Citation:
    return Citation(
        clause_id=payload["clause_id"],
        title=payload["title"],
        article=payload["article"],
        text=text if text is not None else payload["text"],
        source=source,
        score=score,
    )


class RegulationIndex:
    """A regulation collection in Qdrant (embedded or server) with the models that query it."""

    def __init__(
        self,
        client: QdrantClient,
        embed_model: BaseEmbedding,
        encoder: SparseEncoder,
        *,
        collection: str | None = None,
    ) -> None:
        self.client = client
        self.embed_model = embed_model
        self.encoder = encoder
        self.collection = collection or collection_name(embed_model.model_name)

    def exists(self) -> bool:
        return bool(self.client.collection_exists(self.collection))

    def count(self) -> int:
        return self.client.count(self.collection).count if self.exists() else 0

    def ensure_collection(self, dimension: int) -> None:
        if self.exists():
            return
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: RegulationFilter | None = None,
    ) -> list[Citation]:
        """The k best chunks for a query, as citations with their scores (RRF scores rank, they do not measure)."""
        if not query.strip() or not self.exists():
            return []
        query_filter = _to_filter(filters)
        dense = sparse = None
        if mode in (SearchMode.DENSE, SearchMode.HYBRID):
            dense = self.embed_model.get_query_embedding(query)
        if mode in (SearchMode.SPARSE, SearchMode.HYBRID):
            indices, values = self.encoder.encode_query(query)
            sparse = models.SparseVector(indices=indices, values=values)
        if mode is SearchMode.HYBRID:
            response = self.client.query_points(
                self.collection,
                prefetch=[
                    models.Prefetch(query=dense, using=DENSE, limit=max(20, 4 * k), filter=query_filter),
                    models.Prefetch(query=sparse, using=SPARSE, limit=max(20, 4 * k), filter=query_filter),
                ],
                query=models.FusionQuery(fusion=models.Fusion.RRF),
                limit=k,
                with_payload=True,
            )
        else:
            response = self.client.query_points(
                self.collection,
                query=dense if mode is SearchMode.DENSE else sparse,
                using=DENSE if mode is SearchMode.DENSE else SPARSE,
                query_filter=query_filter,
                limit=k,
                with_payload=True,
            )
        return [_citation(p.payload or {}, source="retrieval", score=p.score) for p in response.points]

    def clauses(self, clause_ids: list[str]) -> list[Citation]:
        """Citations for clause ids, whole articles in the order asked; ids not in the corpus are left out."""
        if not clause_ids or not self.exists():
            return []
        points, _ = self.client.scroll(
            self.collection,
            scroll_filter=models.Filter(
                must=[models.FieldCondition(key="clause_id", match=models.MatchAny(any=clause_ids))]
            ),
            limit=64 * len(clause_ids),
            with_payload=True,
        )
        parts: dict[str, list[dict[str, Any]]] = {}
        for p in points:
            payload = p.payload or {}
            parts.setdefault(payload["clause_id"], []).append(payload)
        citations = []
        for cid in clause_ids:
            if cid in parts:
                ordered = sorted(parts[cid], key=lambda payload: payload["part"])
                text = "\n".join(payload["text"] for payload in ordered)
                citations.append(_citation(ordered[0], source="rule", score=None, text=text))
        return citations


def search_regulations(
    index: RegulationIndex,
    query: str,
    k: int = 5,
    regulations: list[str] | None = None,
    scenario: str | None = None,
    effective_on: date | None = None,
) -> list[Citation]:
    """Find the regulation clauses most relevant to a description of conduct (Chinese or English).

    Returns citations (clause id such as 商业银行法-第29条, title, article, text, score), best first."""
    filters = RegulationFilter(regulations=regulations, scenario=scenario, effective_on=effective_on)
    return index.search(query, k=k, filters=filters)


class _SearchArgs(BaseModel):
    query: str = Field(description="The conduct or question to find regulations for, e.g. '承诺保本收益'.")
    k: int = Field(default=5, ge=1, le=20, description="How many clauses to return.")
    regulations: list[str] | None = Field(default=None, description="Only these regulations (short names).")
    scenario: str | None = Field(default=None, description="Only texts bearing on this scenario.")


def regulation_search_tool(index: RegulationIndex) -> StructuredTool:
    """`search_regulations` as a LangChain tool; the index is bound here, not chosen by the model."""

    def run(query: str, k: int = 5, regulations: list[str] | None = None, scenario: str | None = None) -> str:
        hits = search_regulations(index, query, k=k, regulations=regulations, scenario=scenario)
        return "\n\n".join(f"{c.clause_id}（{c.title}{c.article}）：{c.text}" for c in hits) or "未找到相关条文"

    return StructuredTool.from_function(
        run,
        name="search_regulations",
        description="检索法规条文：给出违规行为或问题的描述，返回最相关的条款（条款编号、法规名称、条文）。",
        args_schema=_SearchArgs,
    )
