"""Throughput and peak memory of the rule tier over >= 10,000 conversations.

The conversations are the bundled sample corpus and the shared dev set, replicated with new ids.
The sentiment cache is cleared per conversation so repeated texts do not inflate the figure.
Three figures: the tier itself (redact + rules + score), the full QM graph without storage,
and the full graph with SQLite storage and checkpoints. Usage: python benchmarks/rules_throughput.py [N]
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

from core.models import Conversation
from core.settings import Settings
from core.store import Store
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context, open_sqlite_checkpointer
from knowledge.samples import SAMPLE_CONVERSATIONS
from tools.redact import redact_conversation
from tools.scoring import score
from tools.transcripts import read_path

SHARED_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogues" / "dev_labeled.jsonl"


def corpus(n: int) -> list[Conversation]:
    base = [c for c in read_path(SAMPLE_CONVERSATIONS, max_bytes=10**8) if isinstance(c, Conversation)]
    if SHARED_DEV.exists():
        base += [c for c in read_path(SHARED_DEV, max_bytes=10**8) if isinstance(c, Conversation)]
    return [c.model_copy(update={"id": f"{c.id}-{i}"}) for i, c in enumerate(islice(cycle(base), n))]


def main(n: int = 10_000) -> None:
    conversations = corpus(n)
    turns = sum(len(c.turns) for c in conversations)
    per = turns / len(conversations)
    print(f"{len(conversations):,} conversations, {turns:,} turns ({per:.1f} per conversation)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        context = build_qm_context(settings, store=None)
        scorer = context.engine.scorer

        latencies = []
        started = time.perf_counter()
        for c in conversations:
            scorer.score.cache_clear()
            t0 = time.perf_counter()
            redacted, _ = redact_conversation(c)
            score(context.engine.evaluate(redacted), context.scorecard)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        q = statistics.quantiles(latencies, n=100)
        print(
            f"rule tier (redact + {len(context.scorecard.rules)} rules + score): "
            f"{len(conversations) / elapsed:,.0f} conversations/s on one core; "
            f"p50 {q[49] * 1000:.2f} ms, p95 {q[94] * 1000:.2f} ms per conversation"
        )

        subset = conversations[:2000]
        graph = build_graph()
        started = time.perf_counter()
        for c in subset:
            scorer.score.cache_clear()
            evaluate_conversation(graph, context, c)
        elapsed = time.perf_counter() - started
        print(f"QM graph, no storage (dry run): {len(subset) / elapsed:,.0f} conversations/s")

        stored = conversations[:1000]
        store = Store.from_url(settings.resolved_database_url)
        persisted = build_qm_context(settings, store=store, scorer=scorer)
        graph = build_graph(checkpointer=open_sqlite_checkpointer(settings.resolved_checkpoint_path))
        started = time.perf_counter()
        for c in stored:
            scorer.score.cache_clear()
            evaluate_conversation(graph, persisted, c)
        elapsed = time.perf_counter() - started
        print(f"QM graph with SQLite store + checkpoints: {len(stored) / elapsed:,.0f} conversations/s")
        store.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole run: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
