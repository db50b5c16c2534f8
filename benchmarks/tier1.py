"""Tier 1 (small models) on the labelled sets: rules alone vs rules + tier 1, no LLM.

Prints, for the development part (out-of-fold by writer; policies chosen on the same predictions, and — the
honest figure — chosen without the writer being measured), once with TF-IDF features alone and once with e5
embeddings added, and for the held-out part (the shipped model, never trained or tuned on it): per-code and micro
precision/recall/F1 and the share of clean calls with any false alarm; the same on an ASR-style copy; model load
time, apply() latency per conversation (cold and with cached embeddings) and training time.
Usage: python benchmarks/tier1.py [--skip-dev] [--skip-embeddings] [--skip-heldout] [--embedding-cache PATH]
"""

from __future__ import annotations

import dataclasses
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console

from api.train_cli import training_set
from core.models import Conversation, Verdict
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import load_scorecard
from knowledge.splits import labelled_records, training_records
from tools.accuracy import CodeCounts
from tools.redact import redact_conversation
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.small_model import SmallModelTier
from tools.small_model.provider import TurnEmbedder

console = Console(width=120)


def clean_alarm_rate(pairs: Iterable[tuple[set[str], set[str]]]) -> str:
    clean = [bool(predicted) for gold, predicted in pairs if not gold]
    return f"{sum(clean)}/{len(clean)} = {sum(clean) / len(clean):.2f}" if clean else "-"


def report(title: str, pairs: list[tuple[set[str], set[str]]]) -> None:
    counts = CodeCounts()
    for gold, predicted in pairs:
        counts.add(gold, predicted)
    console.print(counts.table(title))
    precision, recall = counts.precision(), counts.recall()
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    console.print(
        f"[bold]{title}[/]: micro P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}  "
        f"clean calls with a false alarm {clean_alarm_rate(pairs)}\n"
    )


def development(cache: Path | None, with_embeddings: bool) -> None:
    from tools.small_model.training import TrainingConfig, train

    scorecard = load_scorecard(PACKAGED_RULE_PACK)
    records = training_records()
    started = time.perf_counter()
    units, dev = training_set(records, scorecard)
    console.print(
        f"training set: {len(units)} units, {len(dev)} development conversations, {time.perf_counter() - started:.1f} s"
    )
    rules = [(set(c.gold), {f.code for f in c.rule_findings if f.verdict is Verdict.FAIL}) for c in dev]
    report("development part — rules alone", rules)
    for embeddings in (False, True) if with_embeddings else (False,):
        features = "TF-IDF + e5" if embeddings else "TF-IDF"
        embedder = TurnEmbedder(cache_path=cache, threads=1) if embeddings else None
        started = time.perf_counter()
        model, result = train(units, dev, embedder, dataclasses.replace(TrainingConfig(), embeddings=embeddings))
        console.print(f"[bold]{features}[/]: trained with cross-validation in {time.perf_counter() - started:.1f} s")
        report(
            f"development part — rules + tier 1 ({features}; policies chosen on all of dev)",
            [(set(c.gold), result.oof_codes[c.id]) for c in dev],
        )
        report(
            f"development part — rules + tier 1 ({features}; policies chosen without the writer measured)",
            [(set(c.gold), result.nested_codes[c.id]) for c in dev],
        )
        adds = {p.code: round(p.threshold, 2) for p in model.policies if p.threshold is not None}
        vetoes = {p.code: round(p.veto, 3) for p in model.policies if p.veto is not None}
        console.print(f"{features}: adds failures for {adds or '-'}; vetoes for {vetoes or '-'}\n")


def heldout(tier: SmallModelTier, transform: Callable[[Conversation], Conversation], name: str) -> None:
    engine = RuleEngine(load_scorecard(PACKAGED_RULE_PACK), DistressScorer())
    rules_pairs, tier_pairs = [], []
    for record in labelled_records("heldout"):
        conversation, _ = redact_conversation(transform(Conversation.model_validate(record)))
        gold = {label["code"] for label in record.get("labels", [])}
        findings = engine.evaluate(conversation)
        combined = tier.apply(conversation, findings, engine.scorecard)
        rules_pairs.append((gold, {f.code for f in findings if f.verdict is Verdict.FAIL}))
        tier_pairs.append((gold, {f.code for f in combined if f.verdict is Verdict.FAIL}))
    report(f"held-out part{name} — rules alone", rules_pairs)
    report(f"held-out part{name} — rules + tier 1", tier_pairs)


def asr_transform() -> Callable[[Conversation], Conversation] | None:
    try:
        module: Any = importlib.import_module("tools.asr_style")
    except ImportError:
        return None
    if hasattr(module, "asr_style_copy"):
        return lambda conversation: module.asr_style_copy(conversation, 0)
    copy: Callable[[Conversation], Conversation] = module.asr_style
    return copy


def latency(cache: Path | None) -> None:
    started = time.perf_counter()
    tier = SmallModelTier.load_default()
    loaded = time.perf_counter() - started
    engine = RuleEngine(load_scorecard(PACKAGED_RULE_PACK), DistressScorer())
    conversations = [Conversation.model_validate(r) for r in labelled_records("heldout")][:20]
    if tier.model.uses_embeddings:
        tier.embedder.embed(["预热"])  # model load is not per conversation
    cold, warm = [], []
    for conversation in conversations:
        findings = engine.evaluate(conversation)
        started = time.perf_counter()
        tier.apply(conversation, findings, engine.scorecard)
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        tier.apply(conversation, findings, engine.scorecard)
        warm.append(time.perf_counter() - started)
    turns = statistics.mean(len(c.turns) for c in conversations)
    features = "TF-IDF + e5; the e5 encoder loads on first use" if tier.model.uses_embeddings else "TF-IDF only"
    console.print(
        f"model load {loaded * 1000:.0f} ms (numpy only; {features}); "
        f"apply() per conversation ({turns:.0f} turns on average): cold p50 {statistics.median(cold) * 1000:.0f} ms, "
        f"cached embeddings p50 {statistics.median(warm) * 1000:.1f} ms "
        f"(≈{1 / statistics.median(warm):.0f} conversations/s)"
    )


def main(argv: list[str]) -> None:
    cache = Path(argv[argv.index("--embedding-cache") + 1]) if "--embedding-cache" in argv else None
    if "--skip-dev" not in argv:
        development(cache, "--skip-embeddings" not in argv)
    if "--skip-heldout" in argv:
        return
    tier = SmallModelTier.load_default(TurnEmbedder(cache_path=cache, threads=1))
    console.print(f"shipped model tier1-{tier.model.version}")
    heldout(tier, lambda c: c, "")
    transform = asr_transform()
    if transform is None:
        console.print("ASR-style copy: tools/asr_style.py is not there yet; not measured")
    else:
        heldout(tier, transform, " (ASR-style copy)")
    latency(cache)


if __name__ == "__main__":
    main(sys.argv[1:])
