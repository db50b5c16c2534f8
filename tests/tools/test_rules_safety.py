"""Bounded work and evasion-proof matching in the rule tier (issue 11, rows 1, 4 and 8)."""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.rules import RuleEngine
from tools.rules.engine import DEFAULT_MAX_TURN_CHARS


def _failed(engine: RuleEngine, text: str, **meta: object) -> dict[str, str]:
    findings = engine.evaluate(transcript(text, **meta))
    return {f.rule_id: f.explanation for f in findings if f.verdict is Verdict.FAIL}


@pytest.mark.parametrize("said", ["这款产品保\u200b本", "保 本保 收益，稳 赚不赔", "这款产品保\ufeff本\u200d的"])
def test_spaces_and_invisible_characters_do_not_hide_a_forbidden_phrase(engine: RuleEngine, said: str) -> None:
    assert "WS-NO-GUARANTEE" in _failed(engine, f"坐席：{said}", scenario="wealth_sales")


def test_an_overlong_turn_is_matched_up_to_the_limit_with_a_note(engine: RuleEngine) -> None:
    conversation = transcript("坐席：" + "保本稳赚" * 25000, scenario="wealth_sales")
    findings = engine.evaluate(conversation)
    guarantee = next(f for f in findings if f.rule_id == "WS-NO-GUARANTEE")
    assert guarantee.verdict is Verdict.FAIL
    assert all(f.needs_review and f"前 {DEFAULT_MAX_TURN_CHARS} 字" in f.explanation for f in findings)
    prepared, note = engine.prepare(conversation)
    assert len(prepared.turns[0].text) == DEFAULT_MAX_TURN_CHARS and note
    assert len(conversation.turns[0].text) == 100_000  # the caller's conversation is not modified


def test_a_normal_conversation_is_not_copied_or_flagged(engine: RuleEngine) -> None:
    conversation = transcript("坐席：您好,安和银行客服中心。\n客户：我想查一下账单。")
    prepared, note = engine.prepare(conversation)
    assert prepared is conversation and note is None
    assert not any(f.needs_review for f in engine.evaluate(conversation))


def test_hits_per_turn_are_bounded(engine: RuleEngine) -> None:
    from tools.rules.matching import MAX_HITS_PER_PATTERN, find_hits

    conversation = transcript("坐席：" + "保本" * 3000)
    hits = find_hits(conversation, ["保本"], role=None, negation_aware=True)
    assert 1 <= len(hits) <= MAX_HITS_PER_PATTERN
