"""Runs a scorecard's rules over a conversation and turns check results into findings with evidence."""

from __future__ import annotations

from core.models import Conversation, Evidence, Finding, Tier, Utterance, Verdict
from core.scorecard import Rule, Scorecard
from tools.dialect import conversation_reading
from tools.normalize import normalize_text
from tools.rules.checks import CHECKS, CheckResult
from tools.rules.matching import clause_quote
from tools.sentiment import DistressScorer

_MAX_QUOTE = 80
DEFAULT_MAX_TURN_CHARS = 10_000


class RuleEngine:
    """Evaluates every rule of one scorecard; build once per scorecard and reuse across conversations.

    Turn text is normalised (tools/normalize.py) on a copy when the caller has not done so, and a turn longer
    than ``max_turn_chars`` is matched only up to that limit (with a note on every finding and a review flag),
    so the work per evaluation stays linear in the size of the input.
    """

    def __init__(
        self, scorecard: Scorecard, scorer: DistressScorer, *, max_turn_chars: int = DEFAULT_MAX_TURN_CHARS
    ) -> None:
        self.scorecard = scorecard
        self.scorer = scorer
        self.max_turn_chars = max_turn_chars

    def evaluate(self, conversation: Conversation) -> list[Finding]:
        """One finding per rule, in rule-pack order (not-applicable ones included, for the record)."""
        prepared, note = self.prepare(conversation)
        reading = conversation_reading(prepared)
        findings = [self._finding(rule, reading, prepared) for rule in self.scorecard.rules]
        findings = _settle_semantic(findings)
        if note:
            findings = [
                f.model_copy(update={"explanation": f"{f.explanation}（{note}）", "needs_review": True})
                for f in findings
            ]
        return findings

    def prepare(self, conversation: Conversation) -> tuple[Conversation, str | None]:
        """The conversation as the rules read it (normalised, over-long turns cut), and a note when cut."""
        turns: list[Utterance] = []
        changed, cut = False, []
        for turn in conversation.turns:
            text = normalize_text(turn.text)
            if len(text) > self.max_turn_chars:
                text = text[: self.max_turn_chars]
                cut.append(turn.index)
            if text != turn.text:
                changed = True
                turn = turn.model_copy(update={"text": text})
            turns.append(turn)
        note = None
        if cut:
            listed = "、".join(str(i) for i in cut[:5]) + ("…" if len(cut) > 5 else "")
            note = f"第 {listed} 轮超过 {self.max_turn_chars} 字，只检查了前 {self.max_turn_chars} 字"
        return (conversation.model_copy(update={"turns": turns}) if changed else conversation), note

    def evaluate_rule(self, rule: Rule, conversation: Conversation) -> Finding:
        """One rule on a prepared conversation (see prepare)."""
        return self._finding(rule, conversation_reading(conversation), conversation)

    def _finding(self, rule: Rule, reading: Conversation, said: Conversation) -> Finding:
        """The rule's checks read the Mandarin reading; the evidence quotes what was said (same offsets)."""
        result = self._applicability(rule, reading) or CHECKS[rule.check.type](reading, rule.check, self.scorer)
        failed = result.verdict is Verdict.FAIL
        return Finding(
            rule_id=rule.id,
            rule_name=rule.name,
            code=rule.code,
            dimension=rule.effective_dimension,
            verdict=result.verdict,
            severity=rule.severity,
            evidence=_evidence(said, result),
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


def _settle_semantic(findings: list[Finding]) -> list[Finding]:
    """A semantic rule whose code a deterministic rule already failed needs no LLM: the code is decided."""
    decided = {f.code: f.rule_id for f in findings if f.verdict is Verdict.FAIL}
    return [
        f.model_copy(
            update={
                "verdict": Verdict.NOT_APPLICABLE,
                "confidence": 0.9,
                "explanation": f"同类问题（{f.code}）已由规则 {decided[f.code]} 判定，无需大模型复核",
            }
        )
        if f.verdict is Verdict.NOT_EVALUATED and f.code in decided
        else f
        for f in findings
    ]
