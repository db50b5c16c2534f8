"""PII redaction accuracy on the labelled set, and its cost per conversation on the dialogue corpus.

Prints recall per kind, recall on written formats and overall, the false redaction rate (share of look-alike
items touched: order/policy numbers, amounts, dates, branches, 工号), every miss and false redaction, and the
time redaction takes per conversation (with the NER share) on /work/shared/data/dialogues when it is there.

Run: .venv/bin/python benchmarks/pii.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.models import Conversation  # noqa: E402
from tools.ner import EntityTagger, Word, default_tagger  # noqa: E402
from tools.redact import redact_conversation  # noqa: E402
from tools.redaction.accuracy import load_items, measure  # noqa: E402

PII_SET = ROOT / "tests" / "data" / "pii" / "pii_set.jsonl"
DIALOGUES = ROOT.parent / "shared" / "data" / "dialogues"


class _TimedTagger(EntityTagger):
    """The real tagger, timing its own calls."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.calls = 0
        self.chars = 0

    def words(self, text: str) -> list[Word]:
        started = time.perf_counter()
        try:
            return super().words(text)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
            self.chars += len(text)


def accuracy() -> None:
    items = load_items(PII_SET)
    result = measure(items, tagger=default_tagger())
    print(
        f"labelled set: {len(items)} items, {sum(result.total[k] for k in result.kinds)} PII spans, "
        f"{result.lookalikes} look-alikes"
    )
    for kind in result.kinds:
        print(f"  recall {kind:<6} {result.caught[kind]:>3}/{result.total[kind]:<3} = {result.recall([kind]):.3f}")
    for form in ("written", "spoken", "name", "address"):
        key = f"form:{form}"
        print(f"  recall form {form:<8} {result.caught[key]:>3}/{result.total[key]:<3} = {result.recall([key]):.3f}")
    print(f"recall on written formats: {result.written_recall:.3f}   overall recall: {result.overall_recall:.3f}")
    print(
        f"false redactions: {result.false_redactions}/{result.lookalikes} look-alikes = "
        f"{result.false_redaction_rate:.3f}; extra spans inside PII items: {result.spurious_spans}"
    )
    for line in result.missed:
        print("  MISS", line)
    for line in result.false:
        print("  FALSE", line)


def cost(repeats: int = 5) -> None:
    if not DIALOGUES.is_dir():
        print(f"cost: skipped ({DIALOGUES} is absent)")
        return
    conversations = [
        Conversation.model_validate(json.loads(line))
        for path in sorted(DIALOGUES.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    tagger = _TimedTagger()
    redact_conversation(conversations[0], tagger=tagger)  # warm-up
    tagger.seconds, tagger.calls, tagger.chars = 0.0, 0, 0
    per_run = []
    for _ in range(repeats):
        started = time.perf_counter()
        for conversation in conversations:
            redact_conversation(conversation, tagger=tagger)
        per_run.append((time.perf_counter() - started) / len(conversations))
    n = repeats * len(conversations)
    best, median = min(per_run), statistics.median(per_run)
    print(
        f"cost on {len(conversations)} conversations x {repeats}: redaction {median * 1000:.2f} ms/conversation "
        f"(median of runs; best {best * 1000:.2f}), i.e. {1 / median:,.0f} conversations/s on one core; "
        f"NER {tagger.seconds / n * 1000:.2f} ms/conversation in {tagger.calls / n:.2f} calls "
        f"over {tagger.chars / n:.0f} characters"
    )


if __name__ == "__main__":
    accuracy()
    cost()
