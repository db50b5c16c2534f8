"""Precision and recall of predicted category codes against labelled conversations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.table import Table


@dataclass
class CodeCounts:
    """Per-code true positives, false positives and false negatives over a labelled set."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    conversations: int = 0

    def add(self, expected: set[str], predicted: set[str]) -> None:
        self.conversations += 1
        for code in expected & predicted:
            self.tp[code] += 1
        for code in predicted - expected:
            self.fp[code] += 1
        for code in expected - predicted:
            self.fn[code] += 1

    @property
    def codes(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    @staticmethod
    def _ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    def precision(self, code: str | None = None) -> float | None:
        tp = self.tp[code] if code else sum(self.tp.values())
        fp = self.fp[code] if code else sum(self.fp.values())
        return self._ratio(tp, tp + fp)

    def recall(self, code: str | None = None) -> float | None:
        tp = self.tp[code] if code else sum(self.tp.values())
        fn = self.fn[code] if code else sum(self.fn.values())
        return self._ratio(tp, tp + fn)

    def table(self, title: str) -> Table:
        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f}"

        table = Table(title=title)
        for header in ("code", "TP", "FP", "FN", "precision", "recall"):
            table.add_column(header, justify="right" if header != "code" else "left")
        for code in self.codes:
            table.add_row(
                code,
                str(self.tp[code]),
                str(self.fp[code]),
                str(self.fn[code]),
                fmt(self.precision(code)),
                fmt(self.recall(code)),
            )
        table.add_row(
            "micro",
            str(sum(self.tp.values())),
            str(sum(self.fp.values())),
            str(sum(self.fn.values())),
            fmt(self.precision()),
            fmt(self.recall()),
            style="bold",
        )
        return table
