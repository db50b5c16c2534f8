"""Runs a scorecard's rules over a conversation and turns check results into findings with evidence."""

from __future__ import annotations

from core.models import Conversation, Evidence, Finding, Tier, Verdict
from core.scorecard import Rule, Scorecard
from tools.rules.checks import CHECKS, CheckResult
from tools.rules.matching import clause_quote
from tools.sentiment import DistressScorer

_MAX_QUOTE = 80


class RuleEngine:
    """Evaluates every rule of one scorecard; build once per scorecard and reuse across conversations."""

    def __init__(self, scorecard: Scorecard, scorer: DistressScorer) -> None:
        self.scorecard = scorecard
        self.scorer = scorer

    def evaluate(self, conversation: Conversation) -> list[Finding]:
        """One finding per rule, in rule-pack order (not-applicable ones included, for the record)."""
        return [self.evaluate_rule(rule, conversation) for rule in self.scorecard.rules]

    def evaluate_rule(self, rule: Rule, conversation: Conversation) -> Finding:
        result = self._applicability(rule, conversation) or CHECKS[rule.check.type](
            conversation, rule.check, self.scorer
        )
        failed = result.verdict is Verdict.FAIL
        return Finding(
            rule_id=rule.id,
            rule_name=rule.name,
            code=rule.code,
            dimension=rule.effective_dimension,
            verdict=result.verdict,
            severity=rule.severity,
            evidence=_evidence(conversation, result),
            confidence=rule.confidence if rule.confidence is not None and failed else result.confidence,
            tier=Tier.RULES,
            explanation=f"{rule.name}：{result.explanation}" if failed else result.explanation,
            deduction=rule.deduction if failed else 0,
            auto_fail=rule.auto_fail and failed,
            regulation_refs=list(rule.regulation_refs),
        )

    @staticmethod
    def _applicability(rule: Rule, conversation: Conversation) -> CheckResult | None:
        if rule.channels and conversation.channel not in rule.channels:
            return CheckResult(Verdict.NOT_APPLICABLE, f"不适用于 {conversation.channel.value} 渠道")
        if rule.scenarios:
            if conversation.scenario is None and getattr(rule.check, "when", None) is None:
                return CheckResult(Verdict.NOT_APPLICABLE, "会话未标注业务场景，且规则没有内容触发条件")
            if conversation.scenario is not None and conversation.scenario not in rule.scenarios:
                return CheckResult(Verdict.NOT_APPLICABLE, f"不适用于场景 {conversation.scenario}")
        return None


def _evidence(conversation: Conversation, result: CheckResult) -> list[Evidence]:
    spans = {h.turn: (h.start, h.end) for h in reversed(result.hits)}  # first hit per turn wins
    evidence = []
    for index in result.evidence_turns:
        turn = conversation.turns[index]
        if index in spans:
            left, right = clause_quote(turn.text, *spans[index], max_chars=_MAX_QUOTE)
        else:
            left, right = 0, min(len(turn.text), _MAX_QUOTE)
        evidence.append(
            Evidence(turn=index, role=turn.role, quote=turn.text[left:right], start=turn.start, end=turn.end)
        )
    return evidence
