"""Never a number that no tool returned: numbers in a model's answer are checked against the tool results
(and the question); any other number is removed and the removal is noted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_NUMBER = re.compile(r"(?<![A-Za-z\d.])-?\d+(?:\.\d+)?")


def canonical(token: str) -> str:
    """One spelling per number: '25.0' → '25', '0.250' → '0.25', '-3' → '-3'."""
    return f"{round(float(token), 4):g}"


def _leaves(value: Any) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)


def allowed_numbers(results: Iterable[Any], texts: Iterable[str] = ()) -> set[str]:
    """Every number a tool returned (and every number in `texts`, e.g. the question): as written, and rates in
    [0, 1] also as percentages rounded to 0 or 1 decimals."""
    allowed: set[str] = set()
    for result in results:
        dumped = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        allowed.update(canonical(m) for m in _NUMBER.findall(dumped))
        parsed: Any = result
        if isinstance(result, str):
            try:
                parsed = json.loads(result)
            except ValueError:
                parsed = None
        for value in _leaves(parsed):
            allowed.add(canonical(str(value)))
            if -1 <= value <= 1:
                allowed.update({canonical(str(round(value * 100, 1))), canonical(str(round(value * 100)))})
            allowed.update({canonical(str(round(value, 1))), canonical(str(round(value)))})
    for text in texts:
        allowed.update(canonical(m) for m in _NUMBER.findall(text))
    return allowed


def ground(text: str, allowed: set[str]) -> tuple[str, list[str]]:
    """The text with every number not in `allowed` replaced by "[?]", and the numbers removed."""
    removed: list[str] = []

    def check(match: re.Match[str]) -> str:
        if canonical(match.group(0)) in allowed:
            return match.group(0)
        removed.append(match.group(0))
        return "[?]"

    return _NUMBER.sub(check, text), removed
