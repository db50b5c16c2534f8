"""The fixed development / held-out split of the labelled dialogue sets.

A conversation belongs to the held-out part when the first byte of sha256("zhijian-split-v1:" + id) is
below 102 (about 40%), otherwise to the development part. The rule depends on the id alone, so every
writer's set contributes to both parts and the split never moves when files are re-ordered. Rules,
lexicons, thresholds and models are tuned on the development part only; figures are reported for the
held-out part. Re-splitting (after anyone looked at held-out errors) means bumping SPLIT_VERSION.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

SPLIT_VERSION = "v1"
_HELDOUT_BELOW = 102  # of 256: ~40% held out

Part = Literal["dev", "heldout"]

SHARED_DIALOGUES = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogues"
LABELLED_SETS = ("dev_labeled.jsonl", "dev_labeled_2.jsonl")
# Labelled conversations the team wrote itself (one writer a file, ids prefixed by the writer's letter), in the
# shared sets' format. They are tuning data through and through: never reported as held-out.
OWN_SETS = Path(__file__).resolve().parent / "conversations"


_WRITER = re.compile(r"[A-Z]+")


def part_of(conversation_id: str) -> Part:
    """Which part of the split a labelled conversation belongs to."""
    digest = hashlib.sha256(f"zhijian-split-{SPLIT_VERSION}:{conversation_id}".encode()).digest()
    return "heldout" if digest[0] < _HELDOUT_BELOW else "dev"


def writer_of(conversation_id: str) -> str:
    """The writer of a labelled conversation: its id's leading capital letters (D…, E…, F… for the shared sets,
    G… to Z…, AA…, AB… for the team's)."""
    match = _WRITER.match(conversation_id)
    return match.group(0) if match else conversation_id[:1]


def labelled_records(part: Part | None = None, folder: Path = SHARED_DIALOGUES) -> Iterator[dict[str, Any]]:
    """The shared labelled conversations (raw JSON records with `labels`), optionally of one part only."""
    for name in LABELLED_SETS:
        path = folder / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if part is None or part_of(record["id"]) == part:
                    yield record


def own_records(folder: Path = OWN_SETS) -> Iterator[dict[str, Any]]:
    """The labelled conversations written by the team (``knowledge/conversations/writer_*.jsonl``)."""
    for path in sorted(folder.glob("writer_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def training_records() -> list[dict[str, Any]]:
    """What tier 1 is trained and its thresholds tuned on: the shared sets' development part and the team's sets."""
    return [*labelled_records("dev"), *own_records()]
