"""The accuracy protocol: the rule tier (and tier 1, and the LLM tier when available) on the labelled sets.

Per writer set (D = dev_labeled.jsonl, E and F from dev_labeled_2.jsonl) and per part of the fixed split
(knowledge/splits.py: tune on "dev", report "heldout") it prints micro precision/recall/F1 over
(conversation, code) pairs, the share of clean calls with any false alarm, and the same figures for an
ASR-style copy of every conversation (tools/asr_style.py). Then a per-code table (tp/fp/fn) per part, the
satisfied STC-3 Weibo helpdesk dialogues that raise S02 or X02, the share of conversations where any semantic
rule applies, and the share that would reach the LLM (a `not_evaluated` finding, or a failure below the
scorecard's review_below_confidence).

Modes: "rules" always; "rules+tier1" when tools.small_model provides SmallModelTier; "rules+tier1+llm" when
an LLM is configured in settings (runs the product's QM graph). Conversations are redacted first, as in the
product. The team's own written sets (knowledge/conversations/, writers G, H, I…) are reported as part "own": they
are tuning data, like the development part. `--errors` lists the misses and false alarms of the development and
own parts only (never held-out);
`--dev-only` prints no held-out figure at all (for tuning sessions, which should not even see held-out aggregates).
`--model DIR` measures a tier-1 artifact other than the shipped one.
Usage: python benchmarks/accuracy.py [--errors] [--codes] [--no-asr] [--no-stc3] [--no-llm] [--rules-only] [--dev-only]
       [--model DIR] [--skip-writers G,H]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.models import Conversation, Finding, Verdict
from core.scorecard import Scorecard
from core.settings import PACKAGED_RULE_PACK, Settings
from knowledge.rulepacks import load_scorecard
from knowledge.splits import labelled_records, own_records, part_of, writer_of
from tools.accuracy import CodeCounts
from tools.asr_style import asr_style
from tools.redact import redact_conversation
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.transcripts import conversation_from_record

STC3 = Path(__file__).resolve().parents[2] / "shared" / "external" / "stc3_weibo_helpdesk" / "conversations.jsonl"
PARTS = ("dev", "own", "heldout")  # "own": the team's written sets (knowledge/conversations/), tuned on

Judge = Callable[[Conversation], list[Finding]]


@dataclass
class Tally:
    """Counts for one (set, part, text form): code pairs, clean calls and conversations that reach the LLM."""

    counts: CodeCounts = field(default_factory=CodeCounts)
    clean: int = 0
    clean_alarmed: int = 0
    semantic_applicable: int = 0
    reach_llm: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, conversation_id: str, gold: set[str], findings: list[Finding], review_below: float) -> None:
        predicted = {f.code for f in findings if f.verdict is Verdict.FAIL}
        self.counts.add(gold, predicted)
        if not gold:
            self.clean += 1
            self.clean_alarmed += bool(predicted)
        if any(f.verdict is Verdict.NOT_EVALUATED for f in findings):
            self.semantic_applicable += 1
        if any(
            f.verdict is Verdict.NOT_EVALUATED or (f.verdict is Verdict.FAIL and f.confidence < review_below)
            for f in findings
        ):
            self.reach_llm += 1
        if predicted != gold:
            self.errors.append(f"{conversation_id}: missed {sorted(gold - predicted)} extra {sorted(predicted - gold)}")

    def f1(self) -> float | None:
        p, r = self.counts.precision(), self.counts.recall()
        return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)

    def merge(self, other: Tally) -> None:
        self.counts.tp.update(other.counts.tp)
        self.counts.fp.update(other.counts.fp)
        self.counts.fn.update(other.counts.fn)
        self.counts.conversations += other.counts.conversations
        self.clean += other.clean
        self.clean_alarmed += other.clean_alarmed
        self.semantic_applicable += other.semantic_applicable
        self.reach_llm += other.reach_llm


@lru_cache(maxsize=1)
def _own_ids() -> frozenset[str]:
    return frozenset(record["id"] for record in own_records())


def labelled_conversations() -> list[tuple[Conversation, set[str]]]:
    """The labelled conversations (redacted, as the product sees them) with their gold codes: the shared sets,
    then the team's own (part "own")."""
    out = []
    for record in [*labelled_records(), *own_records()]:
        gold = {label["code"] for label in record.get("labels", [])}
        conversation = conversation_from_record(record, source=record["id"])
        out.append((redact_conversation(conversation)[0], gold))
    return out


def labelled_part(conversation_id: str) -> str:
    """The part a labelled conversation counts in: dev / held-out of the fixed split, or "own"."""
    return "own" if conversation_id in _own_ids() else part_of(conversation_id)


def labelled_sets() -> dict[str, tuple[list[Conversation], dict[str, set[str]]]]:
    """Per writer and part: (conversations, id → gold codes) — kept for benchmarks/llm_accuracy.py."""
    sets: dict[str, tuple[list[Conversation], dict[str, set[str]]]] = {}
    for conversation, gold in labelled_conversations():
        name = f"{writer_of(conversation.id)} {labelled_part(conversation.id)}"
        conversations, expected = sets.setdefault(name, ([], {}))
        conversations.append(conversation)
        expected[conversation.id] = gold
    return sets


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(num: int, den: int) -> str:
    return "-" if not den else f"{num / den:.0%}"


def rules_judge(engine: RuleEngine) -> Judge:
    return engine.evaluate


def tier1_judge(engine: RuleEngine, console: Console, model: Path | None = None) -> Judge | None:
    try:
        module = importlib.import_module("tools.small_model")
        tier = module.SmallModelTier.load(model) if model else module.SmallModelTier.load_default()
    except (ImportError, AttributeError) as exc:
        console.print(f"[yellow]rules+tier1 skipped: tools.small_model is not usable ({exc})[/]")
        return None
    except Exception as exc:  # a missing or broken artifact is reported, not fatal to the protocol
        console.print(f"[yellow]rules+tier1 skipped: SmallModelTier.load_default() failed: {exc}[/]")
        return None

    def judge(conversation: Conversation) -> list[Finding]:
        findings: list[Finding] = tier.apply(conversation, engine.evaluate(conversation), engine.scorecard)
        return findings

    return judge


def llm_judge(settings: Settings, console: Console) -> Judge | None:
    if settings.llm_provider == "none":
        console.print("[yellow]rules+tier1+llm skipped: no LLM configured (ZHIJIAN_LLM_PROVIDER=none)[/]")
        return None
    from graphs.qm import build_graph, evaluate_conversation
    from graphs.wiring import build_qm_context

    context = build_qm_context(settings, store=None)
    graph = build_graph()

    def judge(conversation: Conversation) -> list[Finding]:
        return list(evaluate_conversation(graph, context, conversation)["evaluation"].findings)

    return judge


def run_mode(
    name: str,
    judge: Judge,
    data: list[tuple[Conversation, set[str]]],
    card: Scorecard,
    console: Console,
    *,
    asr: bool,
    errors: bool,
    codes: bool,
    parts: tuple[str, ...] = PARTS,
) -> None:
    review_below = card.thresholds.review_below_confidence
    forms = ("written", "asr") if asr else ("written",)
    tallies: dict[tuple[str, str, str], Tally] = {}
    started = time.perf_counter()
    judged = 0
    for conversation, gold in data:
        key = (writer_of(conversation.id), labelled_part(conversation.id))
        if key[1] not in parts:
            continue
        judged += 1
        for form in forms:
            text = conversation if form == "written" else asr_style(conversation)
            tallies.setdefault((*key, form), Tally()).add(conversation.id, gold, judge(text), review_below)
    seconds = time.perf_counter() - started

    table = Table(title=f"{name}: micro P/R/F1 over (conversation, code); {judged} conversations, {seconds:.1f} s")
    for header in ("set", "part", "n", "P", "R", "F1", "clean FA", "ASR P", "ASR R", "ASR F1", "ΔF1", "ASR FA"):
        table.add_column(header, justify="left" if header in ("set", "part") else "right")
    table.add_column("semantic applies", justify="right")
    table.add_column("reach LLM", justify="right")
    writers = sorted({w for w, _, _ in tallies})
    for part in parts:
        present = [w for w in writers if (w, part, "written") in tallies]
        if not present:
            continue
        totals = {form: Tally() for form in forms}
        for writer in [*present, "all"]:
            rows = {}
            for form in forms:
                if writer == "all":
                    rows[form] = totals[form]
                else:
                    rows[form] = tallies.get((writer, part, form), Tally())
                    totals[form].merge(rows[form])
            written = rows["written"]
            cells = [
                writer,
                part,
                str(written.counts.conversations),
                _fmt(written.counts.precision()),
                _fmt(written.counts.recall()),
                _fmt(written.f1()),
                _share(written.clean_alarmed, written.clean),
            ]
            if asr:
                spoken = rows["asr"]
                delta = None if spoken.f1() is None or written.f1() is None else spoken.f1() - written.f1()  # type: ignore[operator]
                cells += [
                    _fmt(spoken.counts.precision()),
                    _fmt(spoken.counts.recall()),
                    _fmt(spoken.f1()),
                    "-" if delta is None else f"{delta * 100:+.1f}",
                    _share(spoken.clean_alarmed, spoken.clean),
                ]
            else:
                cells += ["-"] * 5
            cells += [
                _share(written.semantic_applicable, written.counts.conversations),
                _share(written.reach_llm, written.counts.conversations),
            ]
            table.add_row(*cells, style="bold" if writer == "all" else None)
        if codes:
            console.print(totals["written"].counts.table(f"{name} — per code, {part} part (written)"))
    console.print(table)
    if errors:
        for (_writer, part, form), tally in sorted(tallies.items()):
            if part == "heldout":
                continue  # held-out errors are never looked at: they would end up tuning the rules
            for line in tally.errors:
                console.print(f"  ({form}) {line}", markup=False)


def stc3_satisfied() -> Iterable[Conversation]:
    """The STC-3 Weibo helpdesk dialogues that a majority of annotators judged satisfied."""
    for line in STC3.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        quality = record.get("annotations", {}).get("quality", {})
        if quality.get("satisfied_majority"):
            record = {k: v for k, v in record.items() if k != "annotations"}
            yield conversation_from_record(record, source="stc3")


def run_stc3(name: str, judge: Judge, console: Console) -> None:
    if not STC3.exists():
        console.print(f"STC-3 skipped: {STC3} is absent")
        return
    total = raised = 0
    by_code = {"S02": 0, "X02": 0}
    for conversation in stc3_satisfied():
        failed = {f.code for f in judge(conversation) if f.verdict is Verdict.FAIL}
        total += 1
        raised += bool(failed & set(by_code))
        for code in by_code:
            by_code[code] += code in failed
    console.print(
        f"{name}: satisfied STC-3 dialogues raising S02 or X02: {raised}/{total} = {_share(raised, total)} "
        f"(S02 {by_code['S02']}, X02 {by_code['X02']})"
    )


def arguments(argv: list[str]) -> argparse.Namespace:
    """The command line; an unknown option is an error (it used to be ignored, so `--help` ran the whole protocol,
    held-out part included)."""
    parser = argparse.ArgumentParser(
        description="The accuracy protocol on the labelled sets (see the module docstring).",
        epilog="Tuning sessions: use --dev-only, which prints no held-out figure.",
    )
    parser.add_argument("--errors", action="store_true", help="list misses and false alarms (dev and own parts only)")
    parser.add_argument("--codes", action="store_true", help="a per-code table per part")
    parser.add_argument("--no-asr", action="store_true", help="skip the ASR-style copy")
    parser.add_argument("--no-stc3", action="store_true", help="skip the STC-3 false-alarm check")
    parser.add_argument("--no-llm", action="store_true", help="skip the LLM tier")
    parser.add_argument("--rules-only", action="store_true", help="the rule tier only")
    parser.add_argument("--dev-only", action="store_true", help="the development and own parts only, no held-out")
    parser.add_argument("--model", type=Path, help="a tier-1 artifact other than the shipped one")
    parser.add_argument("--skip-writers", default="", help="writer sets to leave out, e.g. G,H (kept unseen)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    options = arguments(argv)
    console = Console(width=160)
    card = load_scorecard(PACKAGED_RULE_PACK)
    engine = RuleEngine(card, DistressScorer())
    data = labelled_conversations()
    if options.skip_writers:  # e.g. keep a newly written set unseen until it is measured once
        skipped = set(options.skip_writers.split(","))
        data = [(c, g) for c, g in data if writer_of(c.id) not in skipped]
    console.print(f"rule pack {card.name} {card.version}; {len(data)} labelled conversations")
    modes: list[tuple[str, Judge | None]] = [("rules", rules_judge(engine))]
    if not options.rules_only:
        modes.append(("rules+tier1", tier1_judge(engine, console, options.model)))
    if not options.no_llm and not options.rules_only:
        modes.append(("rules+tier1+llm", llm_judge(Settings(), console)))
    for name, judge in modes:
        if judge is None:
            continue
        run_mode(
            name,
            judge,
            data,
            card,
            console,
            asr=not options.no_asr,
            errors=options.errors,
            codes=options.codes,
            parts=("dev", "own") if options.dev_only else PARTS,
        )
        if not options.no_stc3:
            run_stc3(name, judge, console)


if __name__ == "__main__":
    main(sys.argv[1:])
