"""Which turns the model sees: the whole of a short call; windows around the rules' triggers in a long one.

A long call gets as few windows as its triggers allow (each at most `max_turns` turns), and every window is
one request for all the rules whose triggers fall in it — never one request per rule.
"""

from __future__ import annotations

from dataclasses import dataclass

RADIUS = 6  # turns either side of a trigger: enough for a question, its answer and the follow-up


@dataclass(frozen=True)
class Window:
    """Turn indexes (ascending) shown in one request, and the rules judged on them."""

    turns: tuple[int, ...]
    rule_ids: tuple[str, ...]


def select_window(n_turns: int, anchors: list[int], max_turns: int) -> list[int]:
    """All turns of a short call; around the anchors (±RADIUS turns) in a long one; else its opening and close."""
    if n_turns <= max_turns:
        return list(range(n_turns))
    if anchors:
        chosen: set[int] = set()
        for a in sorted(anchors):
            chosen.update(range(max(0, a - RADIUS), min(n_turns, a + RADIUS + 1)))
        return sorted(chosen)[:max_turns]
    half = max_turns // 2
    return [*range(half), *range(n_turns - (max_turns - half), n_turns)]


def _spans(n_turns: int, anchors: set[int]) -> list[tuple[int, int]]:
    """Merged [start, end) spans of ±RADIUS turns around the anchors."""
    merged: list[tuple[int, int]] = []
    for a in sorted(anchors):
        start, end = max(0, a - RADIUS), min(n_turns, a + RADIUS + 1)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _pack(spans: list[tuple[int, int]], max_turns: int) -> list[list[int]]:
    """Spans packed greedily, in call order, into windows of at most max_turns turns."""
    windows: list[list[int]] = []
    current: list[int] = []
    for start, end in spans:
        turns = list(range(start, end))
        if len(current) + len(turns) > max_turns and current:
            windows.append(current)
            current = []
        while len(turns) > max_turns:
            windows.append(turns[:max_turns])
            turns = turns[max_turns:]
        current += turns
    if current:
        windows.append(current)
    return windows


def plan_windows(n_turns: int, anchors: dict[str, list[int]], max_turns: int) -> list[Window]:
    """The requests to send: windows of turns, each with the rules to judge on it (rule id → its trigger turns)."""
    if n_turns <= max_turns:
        return [Window(tuple(range(n_turns)), tuple(anchors))]
    anchored = {rule: {a for a in turns if 0 <= a < n_turns} for rule, turns in anchors.items()}
    all_anchors = set().union(*anchored.values()) if anchored else set()
    plans: list[Window] = []
    for turns in _pack(_spans(n_turns, all_anchors), max_turns):
        shown = set(turns)
        rules = tuple(rule for rule, hits in anchored.items() if hits & shown)
        if rules:
            plans.append(Window(tuple(turns), rules))
    unanchored = tuple(rule for rule, hits in anchored.items() if not hits)
    if unanchored:
        plans.append(Window(tuple(select_window(n_turns, [], max_turns)), unanchored))
    return plans
