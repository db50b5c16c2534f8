"""Accuracy targets of PII redaction on the labelled set (issue 11): these are accuracy, not time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.redaction.accuracy import load_items, measure

PII_SET = Path(__file__).resolve().parents[1] / "data" / "pii" / "pii_set.jsonl"


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return measure(load_items(PII_SET))


def test_the_set_is_large_and_covers_every_form() -> None:
    items = load_items(PII_SET)
    assert len(items) >= 200
    kinds = {s.kind.value for i in items for s in i.spans}
    assert kinds == {"身份证号", "银行卡号", "手机号", "座机", "邮箱", "姓名", "地址"}
    assert {s.form for i in items for s in i.spans} == {"written", "spoken", "name", "address"}
    assert sum(1 for i in items if not i.spans) >= 100  # look-alikes


def test_recall_on_written_formats(result) -> None:  # type: ignore[no-untyped-def]
    assert result.written_recall >= 0.99, result.missed


def test_overall_recall(result) -> None:  # type: ignore[no-untyped-def]
    assert result.overall_recall >= 0.95, result.missed


def test_false_redactions(result) -> None:  # type: ignore[no-untyped-def]
    assert result.false_redaction_rate <= 0.01, result.false
