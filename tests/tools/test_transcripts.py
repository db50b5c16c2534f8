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
    binary.write_bytes(b"\x80\xff\xfe\x81" * 10)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    doc = tmp_path / "call.docx"
    doc.write_bytes(b"PK")
    assert "neither UTF-8" in str(_read(binary)[0])
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


# ── issue 11 rows 14 and 15: no raw input in errors, more encodings, nothing to read is an error ──

SECRET_ID = "110101199003074514"


def test_a_line_without_speaker_is_reported_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(f"身份证{SECRET_ID}，手机13812345678\n坐席：您好", encoding="utf-8")
    (error,) = _read(path)
    assert isinstance(error, InputError)
    assert str(error).startswith(f"{path}:1: no speaker")
    assert SECRET_ID not in str(error) and "13812345678" not in str(error) and "身份证" not in str(error)


def test_a_conversation_id_holding_personal_data_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    bad = {"id": "13812345678", "turns": "not a list"}
    path.write_text(json.dumps(bad) + "\n" + json.dumps({"id": "ok-3", "turns": 1}), encoding="utf-8")
    first, second = (str(e) for e in _read(path))
    assert first.startswith(f"{path}:1: turns") and "13812345678" not in first
    assert second.startswith(f"{path}:2: conversation 'ok-3': turns")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "call.txt"
    text = "坐席：您好，安和银行。\n客户：我想查一下账单。"
    bom = {"utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path.write_bytes(bom + text.encode(encoding))
    (conv,) = _read(path)
    assert isinstance(conv, Conversation) and conv.turns[1].text == "我想查一下账单。"


def test_big5_is_decoded_as_big5_and_gb18030_still_as_gb18030(tmp_path: Path) -> None:
    traditional = (
        "Agent：您好，這裡是安和銀行客服中心，請問有什麼可以幫您？\nCustomer：我想查詢信用卡帳單，還有分期的手續費。"
    )
    simplified = (
        "坐席：您好，这里是安和银行客服中心，请问有什么可以帮您？\n客户：我想查询信用卡账单，还有分期的手续费。"
    )
    big5, gb = tmp_path / "big5.txt", tmp_path / "gb.txt"
    big5.write_bytes(traditional.encode("big5"))
    gb.write_bytes(simplified.encode("gb18030"))
    (from_big5,) = _read(big5)
    (from_gb,) = _read(gb)
    assert isinstance(from_big5, Conversation) and from_big5.turns[1].text == "我想查詢信用卡帳單，還有分期的手續費。"
    assert isinstance(from_gb, Conversation) and from_gb.turns[1].text == "我想查询信用卡账单，还有分期的手续费。"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jsonl", ""),
        ("blank.jsonl", "\n  \n\n"),
        ("list.json", "[]"),
        ("blank.json", " \n"),
        ("blank.txt", "\n\n"),
    ],
)
def test_nothing_to_read_is_an_input_error(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    results = _read(path)
    assert len(results) == 1 and isinstance(results[0], InputError)
    assert "no conversation in" in str(results[0])


def test_a_folder_without_conversation_files_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    (found,) = list(expand_paths([tmp_path]))
    assert isinstance(found, InputError) and "no conversation in the folder" in str(found)


def test_a_large_jsonl_file_is_read_a_line_at_a_time_with_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the whole file was read and decoded first, so the CLI's memory grew with the batch."""
    import tools.transcripts

    lines = [json.dumps({**GOOD, "id": f"ok-{n}"}, ensure_ascii=False) for n in range(50)]
    lines[7] = '{"id": "broken", "turns": ['
    lines[9] = ""
    path = tmp_path / "batch.jsonl"
    path.write_text("\r\n".join(lines) + "\u2028" + lines[0], encoding="utf-8")
    whole = [str(r) if isinstance(r, InputError) else r.id for r in read_path(path, max_bytes=10**6)]

    monkeypatch.setattr(tools.transcripts, "_STREAMED_FROM_BYTES", 10)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the whole file was read"))
    streamed = [str(r) if isinstance(r, InputError) else r.id for r in read_path(path, max_bytes=10**6)]
    assert streamed == whole and len(whole) == 50
    assert f"{path}:8: malformed JSON" in whole[7]


@pytest.mark.parametrize("content", [b"\n\n  \n", "\ufeff".encode() + b'{"id": "x"}\n', "客户".encode("gb18030")])
def test_a_large_jsonl_file_that_is_not_plain_utf8_is_read_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    import tools.transcripts

    path = tmp_path / "batch.jsonl"
    path.write_bytes(content)
    before = [str(r) for r in read_path(path, max_bytes=10**6)]
    monkeypatch.setattr(tools.transcripts, "_STREAMED_FROM_BYTES", 1)
    assert [str(r) for r in read_path(path, max_bytes=10**6)] == before
