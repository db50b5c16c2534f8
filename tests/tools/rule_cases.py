"""What the rule-round tests share: the packaged pack's engine and one rule's verdict on a plain transcript."""

from __future__ import annotations

from pathlib import Path

from core.models import Verdict
from knowledge.rulepacks import load_scorecard
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.transcripts import parse_plain_transcript

PACK = Path(__file__).resolve().parents[2] / "knowledge" / "rulepacks" / "retail_banking.yaml"


def packaged_engine(scorer: DistressScorer | None = None) -> RuleEngine:
    """The rule engine of the packaged pack (with `scorer`, or a new distress scorer)."""
    return RuleEngine(load_scorecard(PACK), scorer if scorer is not None else DistressScorer())


def rule_verdict(engine: RuleEngine, rule_id: str, transcript: str, scenario: str | None = None) -> Verdict:
    """The verdict of one rule of `engine` on a plain `坐席：…/客户：…` transcript."""
    conversation = parse_plain_transcript(transcript, conversation_id="case", source="case", scenario=scenario)
    rule = next(r for r in engine.scorecard.rules if r.id == rule_id)
    prepared, _ = engine.prepare(conversation)
    return engine.evaluate_rule(rule, prepared).verdict
