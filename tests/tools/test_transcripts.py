from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError
from core.models import Conversation, Role
from tools.transcripts import expand_paths, parse_plain_transcript, read_path

GOOD = {
    "id": "ok-1",
    "scenario": "service",
    "turns": [{"role": "agent", "text": "您好"}, {"role": "customer", "text": "在吗"}],
}


def _read(path: Path) -> list[Conversation | InputError]:
    return list(read_path(path, max_bytes=10**6))


def test_jsonl_bad_records_are_reported_with_line_and_field_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps(GOOD, ensure_ascii=False),
        '{"id": "broken", "turns": [',
        json.dumps({"id": "bad-role", "turns": [{"role": "robot", "text": "hi"}]}),
        "",
        json.dumps({**GOOD, "id": "ok-2"}, ensure_ascii=False),
        "[1, 2]",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    results = _read(path)
    good = [r.id for r in results if isinstance(r, Conversation)]
    errors = [str(r) for r in results if isinstance(r, InputError)]
    assert good == ["ok-1", "ok-2"]
    assert errors[0].startswith(f"{path}:2: malformed JSON")
    assert f"{path}:3: conversation 'bad-role': turns.0.role" in errors[1]
    assert f"{path}:6: expected a JSON object" in errors[2]


def test_json_list_and_gb18030_encoding(tmp_path: Path) -> None:
    path = tmp_path / "calls.json"
    path.write_bytes(json.dumps([GOOD, {**GOOD, "id": "ok-2"}], ensure_ascii=False).encode("gb18030"))
    assert [r.id for r in _read(path) if isinstance(r, Conversation)] == ["ok-1", "ok-2"]


def test_undecodable_empty_and_unsupported_files(tmp_path: Path) -> None:
    binary = tmp_path / "x.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\xff" * 10)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    doc = tmp_path / "call.docx"
    doc.write_bytes(b"PK")
    assert "neither UTF-8 nor GB18030" in str(_read(binary)[0])
    assert "empty" in str(_read(empty)[0])
    assert "unsupported file type" in str(_read(doc)[0])
    assert "over the limit" in str(next(iter(read_path(doc, max_bytes=1))))


def test_plain_transcript_with_headers_times_and_continuations() -> None:
    conv = parse_plain_transcript(
        "# agent_id: A017\n# scenario: wealth_sales\n"
        "[00:01.5-00:04] 坐席：您好，安和银行。\n[5-9.5] 客户：你好，\n我想问理财。\n"
        "Agent: English works too.",
        conversation_id="p1",
    )
    assert conv.agent_id == "A017" and conv.scenario == "wealth_sales"
    assert [(t.role, t.start, t.end) for t in conv.turns] == [
        (Role.AGENT, 1.5, 4.0),
        (Role.CUSTOMER, 5.0, 9.5),
        (Role.AGENT, None, None),
    ]
    assert conv.turns[1].text == "你好，我想问理财。"


def test_plain_transcript_without_speakers_is_rejected_with_line() -> None:
    with pytest.raises(InputError, match=r"p2\.txt:1: no speaker"):
        parse_plain_transcript("hello there", conversation_id="p2", source="p2.txt")


def test_folders_expand_to_supported_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("坐席：您好", encoding="utf-8")
    (tmp_path / "a" / "notes.md").write_text("x", encoding="utf-8")
    found = list(expand_paths([tmp_path, tmp_path / "missing.json"]))
    assert found[0] == tmp_path / "a" / "one.txt"
    assert isinstance(found[1], InputError) and "no such file" in str(found[1])
