"""Reading conversations: JSON, JSONL and plain call-centre transcripts (坐席：… / 客户：…).

Every reader yields either a Conversation or an InputError that names the file, line and field,
so one bad record in a batch is reported and skipped while the rest are still evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import InputError
from core.models import ROLE_ALIASES, Conversation

SUPPORTED_SUFFIXES = {".json", ".jsonl", ".txt"}

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


def conversation_from_record(record: Any, *, source: str, line: int | None = None) -> Conversation:
    """Validate one decoded JSON record into a Conversation, or raise InputError saying where."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, got {type(record).__name__}", source=source, line=line)
    try:
        return Conversation.model_validate(record)
    except ValidationError as exc:
        ident = record.get("id")
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
                f"no speaker at the start of the line (expected e.g. '坐席：' or 'Customer:'): {line[:40]!r}",
                source=source,
                line=lineno,
            )
    if not turns:
        raise InputError("the transcript has no turns", source=source)
    record["turns"] = turns
    return conversation_from_record(record, source=source)


def decode_bytes(data: bytes, *, source: str) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Chinese call-centre exports often use."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("the file is neither UTF-8 nor GB18030 text", source=source)


def read_text(text: str, *, source: str, suffix: str) -> Iterator[Conversation | InputError]:
    """Conversations in one document of the given kind (.json, .jsonl or .txt)."""
    if suffix == ".jsonl":
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield conversation_from_record(json.loads(line), source=source, line=lineno)
            except json.JSONDecodeError as exc:
                yield InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", source=source, line=lineno)
            except InputError as exc:
                yield exc
    elif suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            yield InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", source=source, line=exc.lineno)
            return
        records = document if isinstance(document, list) else [document]
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


def read_path(path: Path, *, max_bytes: int) -> Iterator[Conversation | InputError]:
    """Conversations in one file; errors are yielded, never raised."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield InputError(f"file is {size:,} bytes, over the limit of {max_bytes:,}", source=source)
            return
        if size == 0:
            yield InputError("the file is empty", source=source)
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
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
        elif path.is_file():
            yield path
        else:
            yield InputError("no such file or folder", source=str(path))
