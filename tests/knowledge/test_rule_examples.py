"""Every example of every rule in the packaged rule pack is a test."""

from __future__ import annotations

import pytest

from core.models import Verdict
from core.scorecard import Rule, RuleExample
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import example_conversation, load_scorecard
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
    finding = engine.evaluate_rule(rule, conversation)
    if rule.check.type == "semantic":
        # Without the LLM tier a semantic rule is never passed silently.
        assert finding.verdict in {Verdict.NOT_EVALUATED, Verdict.NOT_APPLICABLE}, finding.explanation
        assert finding.verdict is not Verdict.PASS
        return
    assert finding.verdict is example.expect, f"{finding.explanation}; evidence {finding.evidence}"
    if finding.verdict is Verdict.FAIL:
        assert finding.evidence, "a failure must carry evidence"
        for evidence in finding.evidence:
            assert evidence.quote and evidence.quote in conversation.turns[evidence.turn].text
