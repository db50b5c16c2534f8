"""Regulation retrieval quality and latency: hit@1, hit@5 and MRR@10 for dense, sparse and hybrid search.

Queries: benchmarks/data/regulation_queries.yaml (colloquial paraphrases with the clause ids to cite).
Indexes the packaged corpus into the configured Qdrant on first use. Usage: python benchmarks/retrieval.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from core.embeddings import build_embedding
from core.settings import Settings
from core.vectors import open_qdrant
from knowledge.regulations.ingest import ingest_corpus
from tools.regulations import RegulationIndex, SearchMode
from tools.sparse import SparseEncoder

QUERIES = Path(__file__).resolve().parent / "data" / "regulation_queries.yaml"


def main() -> None:
    console = Console()
    settings = Settings()
    index = RegulationIndex(open_qdrant(settings), build_embedding(settings), SparseEncoder())
    report = ingest_corpus(index, settings.regulations_dir)
    console.print(f"index: {report.chunks} chunks ({report.embedded} embedded now, {report.seconds:g} s)")
    cases = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    table = Table(title=f"regulation retrieval — {len(cases)} queries, {report.chunks} chunks")
    for header in ("mode", "hit@1", "hit@5", "MRR@10", "p50 ms", "p95 ms"):
        table.add_column(header, justify="right" if header != "mode" else "left")
    for mode in SearchMode:
        index.search("预热", k=1, mode=mode)  # first-call costs are not query latency
        hit1 = hit5 = 0
        reciprocal: list[float] = []
        latencies: list[float] = []
        for case in cases:
            started = time.perf_counter()
            hits = [c.clause_id for c in index.search(case["q"], k=10, mode=mode)]
            latencies.append((time.perf_counter() - started) * 1000)
            rank = next((i for i, cid in enumerate(hits, start=1) if cid in case["expect"]), None)
            hit1 += rank == 1
            hit5 += rank is not None and rank <= 5
            reciprocal.append(1 / rank if rank else 0.0)
        q = statistics.quantiles(latencies, n=20)
        table.add_row(
            mode.value,
            f"{hit1 / len(cases):.2f}",
            f"{hit5 / len(cases):.2f}",
            f"{statistics.mean(reciprocal):.3f}",
            f"{statistics.median(latencies):.0f}",
            f"{q[18]:.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
