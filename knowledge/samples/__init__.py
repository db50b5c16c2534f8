"""The bundled sample corpus: 30 Chinese contact-centre conversations and their expected category codes."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_CONVERSATIONS = SAMPLES_DIR / "conversations.jsonl"
EXPECTED_CODES = SAMPLES_DIR / "expected_codes.json"


def load_expected_codes(path: Path = EXPECTED_CODES) -> dict[str, set[str]]:
    """Conversation id → the category codes a reviewer expects the rule tier to flag."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {cid: set(codes) for cid, codes in document["expected"].items()}
