"""Per-turn latency of a practice session without an LLM (retrieval customer, rules tier, SQLite checkpoints).

Puts the shared labelled calls through the QM flow into a fresh store, embeds the customer-turn pool once
(reported separately: it is cached in the database afterwards), then runs scripted sessions (a good and a bad
agent, alternating) and times every `say` (reply scored, feedback and model answer, next customer line,
checkpoint written). Prints median and p95 per turn, and the load average, since the embedding model shares
the CPU with whatever else runs.

Usage: python benchmarks/coach.py [SESSIONS]    (OMP_NUM_THREADS=1 is worth trying on a busy machine)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from core.access import AccessRole, Principal
from core.embeddings import build_embedding
from core.models import Conversation
from core.settings import Settings
from core.store import Store
from graphs.coach import PracticeSessions, SessionView, build_coach_context, build_graph
from graphs.qm import build_graph as build_qm_graph
from graphs.qm import evaluate_conversation
from graphs.wiring import build_qm_context, open_sqlite_checkpointer
from knowledge.splits import labelled_records
from tools.coaching.pool import PoolProvider, VectorCache
from tools.coaching.weakness import agent_org, weakness_profile

GOOD = [
    "您好，我是安和银行理财经理小王，请问您这笔钱什么时候要用，能接受多大波动？",
    "理解，您短期要用钱，封闭期产品不适合您，建议随时可取的R1活期理财，不保本但波动很小。",
    "这款产品不保本，有亏损的可能，过往业绩不代表未来表现。",
    "非常抱歉给您带来不便，我理解您的心情，马上帮您登记，今天下午给您回电。",
    "好的，感谢您的耐心，祝您生活愉快，再见。",
]
BAD = [
    "嗯，说吧。",
    "给您推荐这款九个月封闭的定开产品，R4等级，收益高。",
    "您放心，这款产品保本保收益，稳赚不赔。",
    "这个不归我管。",
    "嗯。",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(sessions: PracticeSessions, view: SessionView, script: list[str], timings: list[float]) -> None:
    for n in range(12):
        if view.status != "active":
            break
        reply = f"{'再补充一下，' * (n // len(script))}{script[n % len(script)]}"
        started = time.perf_counter()
        view = sessions.say(view.session_id, reply)
        timings.append((time.perf_counter() - started) * 1000)
    sessions.end(view.session_id)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    records = list(labelled_records())
    if not records:
        sys.exit("the shared labelled dialogues are absent: nothing to draw customer turns from")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), citations=False)
        store = Store.from_url(settings.resolved_database_url)
        qm = build_qm_context(settings, store=store)
        graph = build_qm_graph()
        for record in records:
            evaluate_conversation(graph, qm, Conversation.model_validate(record))
        pools = PoolProvider(store, VectorCache(store, build_embedding(settings)))
        started = time.perf_counter()
        pool = pools.pool("bank-a")
        embed_s = time.perf_counter() - started
        started = time.perf_counter()
        pools.pool("bank-a")
        cached_ms = (time.perf_counter() - started) * 1000
        checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
        context = build_coach_context(settings, store, pools=pools)
        sessions = PracticeSessions(build_graph(checkpointer=checkpointer), context)
        operator = Principal(subject="bench", tenant="bank-a", role=AccessRole.ADMIN)
        org = agent_org(store, operator, "A017")
        assert org is not None
        profile = weakness_profile(store, operator, org, context.scorecard)
        starts: list[float] = []
        turns: list[float] = []
        for n in range(count):
            began = time.perf_counter()
            view = sessions.start(agent=org, profile=profile, started_by="bench", codes=["C03", "C04", "S02"])
            starts.append((time.perf_counter() - began) * 1000)
            run(sessions, view, GOOD if n % 2 == 0 else BAD, turns)
        checkpointer.conn.close()
        store.engine.dispose()
    print(f"pool: {len(pool)} distinct customer lines; first embedding {embed_s:.1f} s, then {cached_ms:.0f} ms")
    print(f"tiers: {context.tiers}; customer: retrieval (no LLM)")
    print(f"session start (scenario + first line): median {statistics.median(starts):.0f} ms over {len(starts)}")
    print(
        f"per turn (say): median {statistics.median(turns):.0f} ms, p95 {percentile(turns, 0.95):.0f} ms, "
        f"max {max(turns):.0f} ms over {len(turns)} turns"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
