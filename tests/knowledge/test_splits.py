"""The labelled sets' split and writers."""

from __future__ import annotations

import json

from knowledge.splits import OWN_SETS, writer_of


def test_a_writer_is_all_the_leading_capitals_of_an_id() -> None:
    """Writers AA and AB are two writers, not writer A twice (their sets were merged in the per-writer figures)."""
    assert [writer_of(i) for i in ("D012", "E001", "Z048", "AA003", "AB003")] == ["D", "E", "Z", "AA", "AB"]


def test_every_own_set_is_the_writer_its_file_names() -> None:
    for path in sorted(OWN_SETS.glob("writer_*.jsonl")):
        ids = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert {writer_of(i) for i in ids} == {path.stem.removeprefix("writer_").upper()}, path.name
