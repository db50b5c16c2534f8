"""Precision and recall per category code of the rule tier on the labelled sets.

Sets: the bundled sample corpus (knowledge/samples) and, when present,
../shared/data/dialogues/dev_labeled.jsonl.
Runs the real QM graph in dry-run mode (nothing stored). Usage: python benchmarks/accuracy.py [--verbose]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console

from core.errors import InputError
from core.models import Conversation
from core.settings import Settings
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from tools.accuracy import CodeCounts
from tools.transcripts import read_path

SHARED_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogues" / "dev_labeled.jsonl"


def labelled_sets() -> dict[str, tuple[list[Conversation], dict[str, set[str]]]]:
    sets = {}
    samples = [c for c in read_path(SAMPLE_CONVERSATIONS, max_bytes=10**8) if isinstance(c, Conversation)]
    sets["sample corpus (knowledge/samples, 30)"] = (samples, load_expected_codes())
    if SHARED_DEV.exists():
        dev = [c for c in read_path(SHARED_DEV, max_bytes=10**8) if not isinstance(c, InputError)]
        labels = {}
        for line in SHARED_DEV.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            labels[record["id"]] = {label["code"] for label in record.get("labels", [])}
        sets["shared dev set (../shared/data/dialogues, 30)"] = (dev, labels)
    return sets


def main(verbose: bool = False) -> None:
    console = Console()
    context = build_qm_context(Settings(), store=None)
    graph = build_graph()
    for name, (conversations, expected) in labelled_sets().items():
        counts = CodeCounts()
        for conversation in conversations:
            evaluation = evaluate_conversation(graph, context, conversation)["evaluation"]
            predicted = {f.code for f in evaluation.failed}
            gold = expected.get(conversation.id, set())
            counts.add(gold, predicted)
            if verbose and predicted != gold:
                console.print(f"{conversation.id}: missed {sorted(gold - predicted)} extra {sorted(predicted - gold)}")
        console.print(counts.table(f"rule tier — {name}"))


if __name__ == "__main__":
    main(verbose="--verbose" in sys.argv)
