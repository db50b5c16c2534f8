"""Throughput and peak memory of evaluation, stored, over >= 10,000 conversations.

The conversations are the shared labelled sets and the bundled samples, replicated with new ids. Figures:
1. the tiers themselves in one process (intake + rules + tier 1 + score), per conversation, no storage;
2. the supervisor → QM graph in one process, with the SQLite store;
3. the whole product: `zhijian evaluate --format json` on the file, with the store and citations on, as a
   subprocess; its wall time, conversations/s and the peak resident memory of its process tree (sampled from /proc),
   at two batch sizes to show whether memory stays flat.

Usage: python benchmarks/rules_throughput.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import cycle, islice
from pathlib import Path

from agents.qm.intake import receive
from core.models import Conversation
from core.settings import Settings
from graphs.supervisor import Evaluator
from graphs.wiring import build_qm_context, load_small_models, open_store
from knowledge.samples import SAMPLE_CONVERSATIONS
from knowledge.splits import LABELLED_SETS, SHARED_DIALOGUES
from tools.scoring import score
from tools.transcripts import read_path

ZHIJIAN = Path(sys.executable).parent / "zhijian"


def base_corpus() -> list[Conversation]:
    files = [SAMPLE_CONVERSATIONS, *(SHARED_DIALOGUES / name for name in LABELLED_SETS)]
    return [c for f in files if f.exists() for c in read_path(f, max_bytes=10**9) if isinstance(c, Conversation)]


def corpus(n: int) -> list[Conversation]:
    return [c.model_copy(update={"id": f"{c.id}-{i}"}) for i, c in enumerate(islice(cycle(base_corpus()), n))]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{current}/task/{current}/children") as f:
                pending += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total / 1024 / 1024


def run_cli(path: Path, data_dir: Path, database: Path, *, citations: bool) -> tuple[float, int, float]:
    """(seconds, lines written, peak MB of the process tree) of `zhijian evaluate --format json`."""
    args = [str(ZHIJIAN), "evaluate", str(path), "--format", "json", "--data-dir", str(data_dir)]
    args += ["--db", f"sqlite:///{database}"]
    if not citations:
        args.append("--no-citations")
    peak = [0.0]
    started = time.perf_counter()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_mb(proc.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        lines = sum(1 for _ in proc.stdout)
        proc.wait()
        done.set()
        sampler.join()
    return time.perf_counter() - started, lines, peak[0]


def main(n: int = 10_000) -> None:
    conversations = corpus(n)
    turns = sum(len(c.turns) for c in conversations)
    print(f"{len(conversations):,} conversations, {turns:,} turns ({turns / len(conversations):.1f} per conversation)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", citations=False)
        context = build_qm_context(settings, store=None, small_models=load_small_models(settings))
        tier1 = context.small_models
        latencies = []
        for c in conversations[:2000]:
            t0 = time.perf_counter()
            received = receive(c, store=None)
            findings = context.engine.evaluate(received.conversation)
            if tier1 is not None:
                findings = tier1.apply(received.conversation, findings, context.scorecard)
            score(findings, context.scorecard)
            latencies.append(time.perf_counter() - t0)
        q = statistics.quantiles(latencies, n=100)
        print(
            f"tiers in one process (intake + {len(context.scorecard.rules)} rules + tier 1 + score): "
            f"{len(latencies) / sum(latencies):,.0f} conversations/s; p50 {q[49] * 1000:.2f} ms, "
            f"p95 {q[94] * 1000:.2f} ms"
        )

        stored = conversations[:1000]
        evaluator = Evaluator.create(context.replace(store=open_store(settings)))
        started = time.perf_counter()
        for c in stored:
            evaluator.evaluate(c)
        elapsed = time.perf_counter() - started
        print(f"supervisor → QM graph with the SQLite store, one process: {len(stored) / elapsed:,.0f} conversations/s")

        # The regulation corpus is indexed and the pack's clauses resolved once (as on any installation), then every
        # batch writes to a fresh database: the figures are the steady state of `zhijian evaluate`.
        shared = Path(tmp) / "cli"
        warm = Path(tmp) / "warm.jsonl"
        warm.write_text(json.dumps(conversations[0].model_dump(mode="json", exclude_none=True), ensure_ascii=False))
        seconds, _, _ = run_cli(warm, shared, shared / "warm.db", citations=True)
        print(f"first use: regulation corpus indexed and clauses resolved in {seconds:.0f} s")
        for size in (n // 4, n):
            path = Path(tmp) / f"batch-{size}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for c in conversations[:size]:
                    f.write(json.dumps(c.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n")
            seconds, lines, peak = run_cli(path, shared, shared / f"batch-{size}.db", citations=True)
            print(
                f"zhijian evaluate --format json, {size:,} conversations, stored, citations on: "
                f"{lines:,} lines in {seconds:.1f} s = {lines / seconds:,.0f} conversations/s (whole process, "
                f"{os.cpu_count()} cores); peak memory of the process tree {peak:,.0f} MB"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
