"""Every example of every rule in the packaged rule pack is a test."""

from __future__ import annotations

import pytest

from core.models import Verdict
from core.scorecard import Rule, RuleExample
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import example_conversation, load_scorecard, verify_examples
from tools.redact import redact_conversation
from tools.rules import RuleEngine

CARD = load_scorecard(PACKAGED_RULE_PACK)
CASES = [
    pytest.param(rule, example, n, id=f"{rule.id}-{n}-{example.expect.value}")
    for rule in CARD.rules
    for n, example in enumerate(rule.examples)
]


@pytest.mark.parametrize(("rule", "example", "number"), CASES)
def test_rule_example(rule: Rule, example: RuleExample, number: int, engine: RuleEngine) -> None:
    conversation, _ = redact_conversation(example_conversation(rule, example, number))  # as in the real flow
    conversation, _ = engine.prepare(conversation)
    finding = engine.evaluate_rule(rule, conversation)
    if rule.check.type == "semantic":
        # Without the LLM tier a semantic rule is never passed silently, and its failing examples must reach the
        # LLM: a trigger that misses the rule's own failing example would hide exactly the cases it is for.
        assert finding.verdict in {Verdict.NOT_EVALUATED, Verdict.NOT_APPLICABLE}, finding.explanation
        if example.expect is Verdict.FAIL:
            assert finding.verdict is Verdict.NOT_EVALUATED, finding.explanation
        return
    assert finding.verdict is example.expect, f"{finding.explanation}; evidence {finding.evidence}"
    if finding.verdict is Verdict.FAIL:
        assert finding.evidence, "a failure must carry evidence"
        for evidence in finding.evidence:
            assert evidence.quote and evidence.quote in conversation.turns[evidence.turn].text


def test_verify_examples_accepts_the_packaged_pack(engine: RuleEngine) -> None:
    assert verify_examples(CARD, engine) == []
