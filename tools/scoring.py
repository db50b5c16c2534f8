"""Scoring: dimension deductions, weights, auto-fail, priority between overlapping findings, risk, review."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Dimension, Finding, RiskLevel, Severity, Verdict
from core.scorecard import Scorecard

_RISK_BY_SEVERITY = {
    Severity.LOW: RiskLevel.LOW,
    Severity.MEDIUM: RiskLevel.MEDIUM,
    Severity.HIGH: RiskLevel.HIGH,
    Severity.CRITICAL: RiskLevel.CRITICAL,
}
_RISK_ORDER = list(RiskLevel)


@dataclass(frozen=True)
class Score:
    scores: dict[Dimension, float]
    total: float
    auto_failed: bool
    risk_level: RiskLevel
    needs_review: bool
    findings: list[Finding]


def apply_priority(findings: list[Finding], priorities: dict[str, int]) -> list[Finding]:
    """A lower-priority failure whose evidence lies within a higher-priority one's, in another
    dimension, is kept for the record but not deducted twice (compliance outranks attitude)."""
    failed = [f for f in findings if f.verdict is Verdict.FAIL and f.evidence]
    suppressed: dict[str, str] = {}
    for low in failed:
        low_turns = {e.turn for e in low.evidence}
        for high in failed:
            if high is low or high.dimension is low.dimension:
                continue
            if priorities[high.rule_id] > priorities[low.rule_id] and low_turns <= {e.turn for e in high.evidence}:
                suppressed[low.rule_id] = high.rule_id
                break
    return [
        f.model_copy(update={"suppressed_by": suppressed[f.rule_id], "deduction": 0}) if f.rule_id in suppressed else f
        for f in findings
    ]


def score(findings: list[Finding], scorecard: Scorecard) -> Score:
    """Dimensions start at 100 and lose each counted failure's deduction; the total is their weighted sum."""
    priorities = {r.id: r.effective_priority for r in scorecard.rules}
    findings = apply_priority(findings, priorities)
    threshold = scorecard.thresholds.review_below_confidence
    reviewed = []
    for f in findings:
        flag = f.needs_review or (
            f.verdict is Verdict.FAIL and (f.confidence < threshold or f.severity.rank >= Severity.HIGH.rank)
        )
        reviewed.append(f.model_copy(update={"needs_review": flag}) if flag != f.needs_review else f)
    counted = [f for f in reviewed if f.verdict is Verdict.FAIL and f.suppressed_by is None]
    scores = {d: max(0.0, 100.0 - sum(f.deduction for f in counted if f.dimension is d)) for d in Dimension}
    auto_failed = any(f.auto_fail for f in counted)
    total = 0.0 if auto_failed else round(sum(scores[d] * p.weight for d, p in scorecard.dimensions.items()), 1)
    risk = RiskLevel.NONE
    for f in counted:
        level = _RISK_BY_SEVERITY[f.severity]
        if _RISK_ORDER.index(level) > _RISK_ORDER.index(risk):
            risk = level
    if auto_failed:
        risk = RiskLevel.CRITICAL
    return Score(
        scores=scores,
        total=total,
        auto_failed=auto_failed,
        risk_level=risk,
        needs_review=any(f.needs_review for f in reviewed),
        findings=reviewed,
    )
