"""Throughput and peak memory of evaluation, stored, over >= 10,000 conversations.

The conversations are the shared labelled sets and the bundled samples, replicated with new ids. Figures:
1. the tiers themselves in one process (intake + rules + tier 1 + score), per conversation, no storage;
2. the supervisor → QM graph in one process with the SQLite store, one conversation at a time (as `/evaluate`),
   and as the CLI's batch path does it (chunks of 32, each chunk's writes in one transaction);
3. the whole product: `zhijian evaluate --format json` on the file, with the store and citations on, as a
   subprocess; its wall time, conversations/s, the CPU time of its process tree per conversation, and the peak
   memory of its process tree (sampled from /proc every 0.2 s), at two batch sizes to show whether memory stays
   flat. Memory is given two ways: PSS (each shared page divided among the processes sharing it: the honest total
   for workers forked from one fork server) and RSS (each process's resident pages, shared ones counted again in
   every process). The machine is shared: run it when it is quiet, or compare CPU ms per conversation.

Usage: python benchmarks/rules_throughput.py [N] [--repeat K]   (K runs of each CLI batch; medians printed)
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
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

from proctree import tree_cpu_seconds, tree_memory_mb

from agents.qm.intake import receive
from api.batch import CHUNK, evaluate_chunk
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


@dataclass(frozen=True)
class CliRun:
    seconds: float
    lines: int
    cpu_seconds: float
    peak_pss_mb: float
    peak_rss_mb: float


def run_cli(path: Path, data_dir: Path, database: Path, *, citations: bool) -> CliRun:
    """One run of `zhijian evaluate --format json` with its process tree sampled."""
    args = [str(ZHIJIAN), "evaluate", str(path), "--format", "json", "--data-dir", str(data_dir)]
    args += ["--db", f"sqlite:///{database}"]
    if not citations:
        args.append("--no-citations")
    peak = [0.0, 0.0]
    cpu: dict[int, float] = {}
    started = time.perf_counter()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                pss, rss = tree_memory_mb(proc.pid)
                peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
                tree_cpu_seconds(proc.pid, cpu)
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert proc.stdout is not None
        lines = sum(1 for _ in proc.stdout)
        proc.wait()
        done.set()
        sampler.join()
    return CliRun(time.perf_counter() - started, lines, sum(cpu.values()), peak[0], peak[1])


def main(n: int = 10_000, *, repeat: int = 1) -> None:
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
        print(
            f"supervisor → QM graph with the SQLite store, one process, one at a time: "
            f"{len(stored) / elapsed:,.0f} conversations/s"
        )
        batched: list[tuple[Conversation, str | None]] = [
            (c.model_copy(update={"id": f"{c.id}-chunked"}), None) for c in stored
        ]
        started = time.perf_counter()
        for at in range(0, len(batched), CHUNK):
            evaluate_chunk(evaluator, batched[at : at + CHUNK])
        elapsed = time.perf_counter() - started
        print(
            f"the same, as the CLI's batch path (chunks of {CHUNK}, one transaction each), one process: "
            f"{len(batched) / elapsed:,.0f} conversations/s"
        )

        # The regulation corpus is indexed and the pack's clauses resolved once (as on any installation), then every
        # batch writes to a fresh database: the figures are the steady state of `zhijian evaluate`.
        shared = Path(tmp) / "cli"
        warm = Path(tmp) / "warm.jsonl"
        warm.write_text(json.dumps(conversations[0].model_dump(mode="json", exclude_none=True), ensure_ascii=False))
        first = run_cli(warm, shared, shared / "warm.db", citations=True)
        print(f"first use: regulation corpus indexed and clauses resolved in {first.seconds:.0f} s")
        for size in (n // 4, n):
            path = Path(tmp) / f"batch-{size}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for c in conversations[:size]:
                    f.write(json.dumps(c.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n")
            runs = [
                run_cli(path, shared, shared / f"batch-{size}-{k}.db", citations=True) for k in range(max(1, repeat))
            ]
            lines = runs[0].lines
            rate = statistics.median(r.lines / r.seconds for r in runs)
            cpu_ms = statistics.median(r.cpu_seconds / r.lines * 1000 for r in runs)
            print(
                f"zhijian evaluate --format json, {size:,} conversations, stored, citations on: {lines:,} lines, "
                f"{rate:,.0f} conversations/s (whole process, {os.cpu_count()} cores; median of {len(runs)}), "
                f"CPU {cpu_ms:.2f} ms per conversation (process tree); peak memory of the process tree: "
                f"PSS {statistics.median(r.peak_pss_mb for r in runs):,.0f} MB, "
                f"RSS {statistics.median(r.peak_rss_mb for r in runs):,.0f} MB"
            )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    repeats = 1
    if "--repeat" in arguments:
        at = arguments.index("--repeat")
        repeats = int(arguments[at + 1])
        del arguments[at : at + 2]
    main(int(arguments[0]) if arguments else 10_000, repeat=repeats)
