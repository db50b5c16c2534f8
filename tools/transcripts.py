"""Reading conversations: JSON, JSONL and plain call-centre transcripts (坐席：… / 客户：…).

Every reader yields either a Conversation or an InputError that names the file, line and field,
so one bad record in a batch is reported and skipped while the rest are still evaluated. Error
messages never quote the input (a line may hold an ID or card number): they say where and which field.
Files may be UTF-8, UTF-16/32 (with a BOM), GB18030 or Big5; a file, list or folder without a
single conversation is an error, not an empty success.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import InputError
from core.models import ROLE_ALIASES, Conversation
from tools.redaction.contacts import find_emails
from tools.redaction.numbers import find_numbers

SUPPORTED_SUFFIXES = {".json", ".jsonl", ".txt"}
AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus"}  # recordings, transcribed by tools/asr.py

_SPEAKER = "|".join(sorted((re.escape(a) for a in ROLE_ALIASES), key=len, reverse=True))
_TIME = r"(?:\d+:)?\d+(?:\.\d+)?"
_TURN_LINE = re.compile(
    rf"^\s*(?:\[(?P<start>{_TIME})(?:\s*[-–~]\s*(?P<end>{_TIME}))?\]\s*)?(?P<who>{_SPEAKER})\s*[:：]\s*(?P<text>.*)$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^#\s*(?P<key>[a-z_]+)\s*[:：]\s*(?P<value>.+?)\s*$")


def _seconds(stamp: str | None) -> float | None:
    if stamp is None:
        return None
    minutes, _, seconds = stamp.rpartition(":")
    return float(seconds) + 60 * float(minutes or 0)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the field path, e.g. ``turns.3.role: …``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _printable_id(ident: Any) -> str | None:
    """A conversation id fit for an error message: short, and holding no phone, ID or card number or e-mail."""
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return None
    text = str(ident)
    if len(text) > 64 or find_numbers(text) or find_emails(text):
        return None
    return text


def conversation_from_record(record: Any, *, source: str, line: int | None = None) -> Conversation:
    """Validate one decoded JSON record into a Conversation, or raise InputError saying where."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, got {type(record).__name__}", source=source, line=line)
    try:
        return Conversation.model_validate(record)
    except ValidationError as exc:
        ident = _printable_id(record.get("id"))
        prefix = f"conversation {ident!r}: " if ident else ""
        raise InputError(prefix + describe_validation_error(exc), source=source, line=line) from None


def parse_plain_transcript(text: str, *, conversation_id: str, source: str = "<text>", **meta: Any) -> Conversation:
    """Parse ``坐席：…`` / ``Customer: …`` lines, optionally prefixed by ``[start-end]`` seconds or mm:ss.

    Leading ``# key: value`` lines set conversation fields (agent_id, scenario, channel …).
    A line without a speaker continues the previous turn.
    """
    record: dict[str, Any] = {"id": conversation_id, **meta}
    turns: list[dict[str, Any]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not turns and (header := _HEADER_LINE.match(line)):
            record[header["key"]] = header["value"]
            continue
        if m := _TURN_LINE.match(line):
            turns.append(
                {
                    "role": m["who"],
                    "text": m["text"],
                    "start": _seconds(m["start"]),
                    "end": _seconds(m["end"]),
                }
            )
        elif turns:
            turns[-1]["text"] += line
        else:
            raise InputError(
                "no speaker at the start of the line (expected e.g. '坐席：' or 'Customer:')",
                source=source,
                line=lineno,
            )
    if not turns:
        raise InputError("no conversation in the transcript: it has no turns", source=source)
    record["turns"] = turns
    return conversation_from_record(record, source=source)


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _share(text: str, common: Callable[[str], bool]) -> float:
    hanzi = _CJK.findall(text)
    return sum(map(common, hanzi)) / len(hanzi) if hanzi else 0.0


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _in_big5_level1(char: str) -> bool:
    """One of Big5's 5,401 frequent characters (lead byte A4–C6)."""
    try:
        encoded = char.encode("cp950")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xA4 <= encoded[0] <= 0xC6


def _chinese_legacy(data: bytes) -> str | None:
    """GB18030 or Big5, whichever reads as the more ordinary text.

    Big5 bytes are mostly valid GB18030 too, so a strict decode cannot tell them apart. Text decoded with its
    own encoding uses that encoding's frequent characters (GB2312, Big5 level 1) almost only; decoded with the
    other one, a third to a half of its characters are rare ones.
    """
    candidates: list[tuple[float, str]] = []
    for encoding, common in (("gb18030", _in_gb2312), ("cp950", _in_big5_level1)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_share(text, common), text))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]  # on a tie (no hanzi at all) the first, GB18030


def decode_bytes(data: bytes, *, source: str) -> str:
    """Text of a file: by its BOM (UTF-8/16/32), else UTF-8, UTF-16 without BOM, GB18030 or Big5."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise InputError(
                    f"the file starts with a {encoding} byte-order mark but is not {encoding}", source=source
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data.count(0) * 4 >= len(data) and len(data) % 2 == 0:  # ASCII-heavy UTF-16 without a BOM
        encoding = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    if b"\x00" not in data and (text := _chinese_legacy(data)) is not None:
        return text
    raise InputError("the file is neither UTF-8, UTF-16, GB18030 nor Big5 text", source=source)


def read_text(text: str, *, source: str, suffix: str) -> Iterator[Conversation | InputError]:
    """Conversations in one document of the given kind (.json, .jsonl or .txt)."""
    if suffix == ".jsonl":
        yield from _jsonl_records(text.splitlines(), source=source)
    elif suffix == ".json":
        if not text.strip():
            yield InputError("no conversation in the file: it has only blank lines", source=source)
            return
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            yield InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", source=source, line=exc.lineno)
            return
        records = document if isinstance(document, list) else [document]
        if not records:
            yield InputError("no conversation in the file: the JSON list is empty", source=source)
            return
        for position, record in enumerate(records):
            try:
                yield conversation_from_record(record, source=f"{source}[{position}]" if len(records) > 1 else source)
            except InputError as exc:
                yield exc
    elif suffix == ".txt":
        try:
            yield parse_plain_transcript(text, conversation_id=Path(source).stem, source=source)
        except InputError as exc:
            yield exc
    else:
        yield InputError(
            f"unsupported file type {suffix!r}; use {', '.join(sorted(SUPPORTED_SUFFIXES))}", source=source
        )


_STREAMED_FROM_BYTES = 1 << 20  # a larger UTF-8 JSONL file is read a line at a time: memory flat in its size


def _plain_utf8(path: Path) -> bool:
    """Whether a file is UTF-8 without a byte-order mark, checked a block at a time (nothing is kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        head = f.read(4)
        if any(head.startswith(bom) for bom, _ in _BOMS):
            return False
        try:
            decoder.decode(head)
            while block := f.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _stream_jsonl(path: Path, *, source: str) -> Iterator[Conversation | InputError]:
    """`read_text` of a UTF-8 JSONL file, one line at a time (the same line numbers and messages)."""
    with path.open(encoding="utf-8") as f:
        # the same line breaks as str.splitlines on the whole text
        yield from _jsonl_records((line for physical in f for line in physical.splitlines()), source=source)


def _jsonl_records(lines: Iterable[str], *, source: str) -> Iterator[Conversation | InputError]:
    """One conversation (or the error saying why not) per non-blank line; an error when every line is blank."""
    blank = True
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        blank = False
        try:
            yield conversation_from_record(json.loads(line), source=source, line=lineno)
        except json.JSONDecodeError as exc:
            yield InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", source=source, line=lineno)
        except InputError as exc:
            yield exc
    if blank:
        yield InputError("no conversation in the file: it has only blank lines", source=source)


def read_path(path: Path, *, max_bytes: int) -> Iterator[Conversation | InputError]:
    """Conversations in one file; errors are yielded, never raised. A large UTF-8 JSONL file is streamed."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield InputError(f"file is {size:,} bytes, over the limit of {max_bytes:,}", source=source)
            return
        if size == 0:
            yield InputError("no conversation in the file: it is empty", source=source)
            return
        if path.suffix.lower() == ".jsonl" and size > _STREAMED_FROM_BYTES and _plain_utf8(path):
            yield from _stream_jsonl(path, source=source)
            return
        text = decode_bytes(path.read_bytes(), source=source)
    except InputError as exc:
        yield exc
        return
    except OSError as exc:
        yield InputError(f"cannot read: {exc.strerror}", source=source)
        return
    yield from read_text(text, source=source, suffix=path.suffix.lower())


def expand_paths(paths: Iterable[Path], *, also: frozenset[str] = frozenset()) -> Iterator[Path | InputError]:
    """Files named, and supported files (plus the `also` suffixes) under folders named (sorted, recursive)."""
    wanted = SUPPORTED_SUFFIXES | also
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
            if not found:
                kinds = ", ".join(sorted(wanted))
                yield InputError(f"no conversation in the folder: no {kinds} file", source=str(path))
            yield from found
        elif path.is_file():
            yield path
        else:
            yield InputError("no such file or folder", source=str(path))
