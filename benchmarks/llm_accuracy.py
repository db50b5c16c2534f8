"""The LLM tier on the labelled sets: rules (+ tier 1 when available) alone, then with the configured LLM.

Reports the held-out part of the fixed split (knowledge/splits.py) by default: micro precision / recall / F1
over (conversation, code) pairs, the share of clean calls with any false alarm, the share of conversations that
reach the LLM, requests (one per window) per conversation that reaches it, tokens and seconds, how many LLM
verdicts went to review below their threshold, and where the probabilities came from (token logprobs or the
model's stated confidence).

`--learn` runs on the development part only with every verdict accepted, records the raw verdicts and writes
per-rule thresholds (knowledge/llm_thresholds.yaml unless --out is given). Configure the model with
ZHIJIAN_LLM_PROVIDER (openai | local) and friends; without one it says so and measures nothing.
Usage: python benchmarks/llm_accuracy.py [--part heldout|dev] [--limit N] [--learn [--target 0.9] [--out PATH]]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from agents.qm.context import QMContext
from core.llm import LlmUnavailable, build_chat_model, model_label
from core.models import Conversation, Verdict
from core.settings import Settings
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context
from knowledge.splits import SPLIT_VERSION, Part, labelled_records
from prompts import load_prompt
from tools.accuracy import CodeCounts
from tools.redact import redact_conversation
from tools.semantic import (
    PACKAGED_THRESHOLDS,
    Judgement,
    JudgeRequest,
    LearnedFrom,
    LlmThresholds,
    MemoryVerdictCache,
    Observation,
    SemanticJudge,
    learn_thresholds,
    load_thresholds,
)
from tools.semantic.thresholds import save_thresholds
from tools.transcripts import conversation_from_record


@dataclass
class Recorder:
    """Keeps every raw judgement the judge makes, with the gold answer of its rule's code."""

    gold: dict[str, set[str]]
    observations: list[Observation] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0

    def __call__(self, conversation: Conversation, request: JudgeRequest, judgement: Judgement | None) -> None:
        if judgement is None:
            self.unanswered += 1
            return
        self.sources[judgement.probability_source] += 1
        self.observations.append(
            Observation(
                rule_id=request.rule.id,
                purpose=request.purpose,
                verdict=judgement.verdict,
                verdict_probability=judgement.verdict_probability,
                gold_violation=request.rule.code in self.gold.get(conversation.id, set()),
            )
        )


@dataclass
class Tally:
    """Figures for one mode over one part."""

    counts: CodeCounts = field(default_factory=CodeCounts)
    clean: int = 0
    clean_alarmed: int = 0
    reached: int = 0
    requests: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    reviews: int = 0

    def f1(self) -> float | None:
        p, r = self.counts.precision(), self.counts.recall()
        return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)

    def line(self, name: str) -> str:
        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        n = self.counts.conversations
        text = (
            f"{name}: P {fmt(self.counts.precision())} R {fmt(self.counts.recall())} F1 {fmt(self.f1())}; "
            f"clean calls with a false alarm {self.clean_alarmed}/{self.clean}"
        )
        if self.reached or self.requests:
            text += (
                f"; reached the LLM {self.reached}/{n} ({self.reached / max(n, 1):.0%}), "
                f"{statistics.mean(self.requests) if self.requests else 0:.2f} requests per conversation reached, "
                f"median {statistics.median(self.tokens) if self.tokens else 0:.0f} tokens, "
                f"{statistics.median(self.seconds):.1f} s median / {statistics.mean(self.seconds):.1f} s mean "
                f"per conversation; {self.reviews} LLM verdicts sent to review"
            )
        return text


def labelled(part: Part, limit: int | None) -> tuple[list[Conversation], dict[str, set[str]]]:
    """The part's conversations (redacted, as the product sees them) and their gold codes."""
    conversations, gold = [], {}
    for record in labelled_records(part):
        conversation = conversation_from_record(record, source=record["id"])
        conversations.append(redact_conversation(conversation)[0])
        gold[conversation.id] = {label["code"] for label in record.get("labels", [])}
    return (conversations[:limit] if limit else conversations), gold


def with_tier1(context: QMContext, console: Console) -> QMContext:
    """The context with tier 1 when tools.small_model provides it and the context takes it."""
    if not hasattr(context, "small_models") or getattr(context, "small_models", None) is not None:
        return context
    try:
        tier = importlib.import_module("tools.small_model").SmallModelTier.load_default()
    except Exception as exc:  # tier 1 is optional here: say so and measure rules + LLM
        console.print(f"[yellow]tier 1 not used: {type(exc).__name__}: {exc}[/]")
        return context
    return dataclasses.replace(context, **{"small_models": tier})


def run(
    graph: Any, context: QMContext, conversations: list[Conversation], gold: dict[str, set[str]], console: Console
) -> Tally:
    tally = Tally()
    for number, conversation in enumerate(conversations, start=1):
        started = time.perf_counter()
        evaluation = evaluate_conversation(graph, context, conversation)["evaluation"]
        expected = gold.get(conversation.id, set())
        predicted = {f.code for f in evaluation.findings if f.verdict is Verdict.FAIL}
        tally.counts.add(expected, predicted)
        if not expected:
            tally.clean += 1
            tally.clean_alarmed += bool(predicted)
        if context.judge is None:
            continue
        tally.seconds.append(time.perf_counter() - started)
        usage = evaluation.llm
        if usage is not None and usage.calls + usage.cached + usage.failed:
            tally.reached += 1
            tally.requests.append(usage.calls + usage.cached)
            tally.tokens.append(usage.input_tokens + usage.output_tokens)
        if usage is not None:
            tally.reviews += sum(1 for f in evaluation.findings if f.model == usage.model and f.needs_review)
        console.print(f"  {number}/{len(conversations)} {conversation.id}: {tally.seconds[-1]:.1f} s", highlight=False)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["heldout", "dev"], default="heldout")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--learn", action="store_true", help="learn per-rule thresholds on the dev part")
    parser.add_argument("--target", type=float, default=0.9, help="precision each learned threshold must reach")
    parser.add_argument("--out", type=Path, default=PACKAGED_THRESHOLDS)
    args = parser.parse_args()
    console = Console(width=160)
    settings = Settings()
    if settings.llm_provider == "none":
        console.print("Not measured: no LLM configured (ZHIJIAN_LLM_PROVIDER=none; set openai or local).")
        return
    try:
        model = build_chat_model(settings)
    except LlmUnavailable as exc:
        console.print(f"Not measured: the configured LLM is unavailable here: {exc}")
        return
    assert model is not None
    part: Part = "dev" if args.learn else args.part
    conversations, gold = labelled(part, args.limit)
    if not conversations:
        console.print("Not measured: the shared labelled sets (../shared/data/dialogues) are absent.")
        return
    recorder = Recorder(gold)
    thresholds = LlmThresholds.permissive() if args.learn else load_thresholds(settings.llm_thresholds)
    prompt = load_prompt("semantic_check", settings.prompt_language)
    judge = SemanticJudge(
        model,
        prompt=prompt,
        model_name=model_label(model),
        cache=MemoryVerdictCache(),
        window_turns=settings.llm_window_turns,
        timeout_s=settings.llm_timeout_s,
        max_concurrency=settings.llm_max_concurrency,
        thresholds=thresholds,
        structured_output=settings.llm_structured_output,
        observer=recorder,
    )
    base = with_tier1(build_qm_context(settings, store=None), console)
    graph = build_graph()
    console.print(f"{part} part (split {SPLIT_VERSION}): {len(conversations)} conversations; model {judge.model_name}")
    alone = run(graph, base, conversations, gold, console)
    with_llm = run(graph, dataclasses.replace(base, judge=judge), conversations, gold, console)
    judge.close()
    tier = "rules + tier 1" if getattr(base, "small_models", None) is not None else "rules"
    console.print(alone.counts.table(f"{tier} — {part}"))
    console.print(with_llm.counts.table(f"{tier} + LLM ({judge.model_name}, thresholds {thresholds.version}) — {part}"))
    console.print(alone.line(tier))
    console.print(with_llm.line(f"{tier} + LLM"))
    total = sum(recorder.sources.values())
    console.print(
        f"verdict probabilities: {recorder.sources['logprobs']}/{total} from token logprobs, "
        f"{recorder.sources['stated']}/{total} stated by the model; {recorder.unanswered} rules got no answer"
    )
    if args.learn:
        learned = learn_thresholds(
            recorder.observations,
            learned=LearnedFrom(
                method=f"per rule and outcome, the least probability whose verdicts reach precision {args.target} "
                "on the development part (benchmarks/llm_accuracy.py --learn)",
                part="dev",
                split_version=SPLIT_VERSION,
                model=judge.model_name,
                prompt_version=prompt.version,
                conversations=len(conversations),
                date=date.today().isoformat(),
            ),
            target_precision=args.target,
        )
        save_thresholds(learned, args.out)
        console.print(f"wrote {len(learned.rules)} rules' thresholds to {args.out}")


if __name__ == "__main__":
    main()
