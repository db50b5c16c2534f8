from __future__ import annotations

from core.models import Dimension, Evidence, Finding, RiskLevel, Role, Severity, Tier, Verdict
from core.scorecard import Scorecard
from tools.scoring import score


def _finding(
    rule_id: str,
    dimension: Dimension,
    turns: list[int],
    *,
    deduction: float = 10,
    severity: Severity = Severity.MEDIUM,
    confidence: float = 0.9,
    auto_fail: bool = False,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        rule_name=rule_id,
        code="C03" if dimension is Dimension.COMPLIANCE else "S01",
        dimension=dimension,
        verdict=Verdict.FAIL,
        severity=severity,
        confidence=confidence,
        tier=Tier.RULES,
        explanation="",
        deduction=deduction,
        auto_fail=auto_fail,
        evidence=[Evidence(turn=t, role=Role.AGENT, quote="x") for t in turns],
    )


def test_compliance_outranks_attitude_on_the_same_passage(scorecard: Scorecard) -> None:
    findings = [
        _finding("WS-NO-GUARANTEE", Dimension.COMPLIANCE, [3], deduction=40, severity=Severity.CRITICAL),
        _finding("SV-RUDE-LANGUAGE", Dimension.ATTITUDE, [3], deduction=15),
        _finding("SV-PERFUNCTORY", Dimension.ATTITUDE, [5], deduction=10, confidence=0.65),
    ]
    result = score(findings, scorecard)
    by_id = {f.rule_id: f for f in result.findings}
    assert by_id["SV-RUDE-LANGUAGE"].suppressed_by == "WS-NO-GUARANTEE"
    assert by_id["SV-RUDE-LANGUAGE"].deduction == 0
    assert result.scores[Dimension.ATTITUDE] == 90  # only the perfunctory reply counts
    assert result.scores[Dimension.COMPLIANCE] == 60
    assert result.total == round(60 * 0.4 + 90 * 0.2 + 100 * 0.2 + 100 * 0.2, 1)
    assert result.risk_level is RiskLevel.CRITICAL
    assert by_id["SV-PERFUNCTORY"].needs_review and by_id["WS-NO-GUARANTEE"].needs_review
    assert result.needs_review


def test_auto_fail_zeroes_the_total_and_clean_call_scores_full(scorecard: Scorecard) -> None:
    failed = score([_finding("PR-NO-PASSWORD-OR-CODE", Dimension.COMPLIANCE, [1], auto_fail=True)], scorecard)
    assert failed.auto_failed and failed.total == 0 and failed.risk_level is RiskLevel.CRITICAL
    clean = score([], scorecard)
    assert clean.total == 100 and clean.risk_level is RiskLevel.NONE and not clean.needs_review


def test_deductions_floor_at_zero(scorecard: Scorecard) -> None:
    attitude_rules = ["SV-RUDE-LANGUAGE", "SV-PERFUNCTORY", "SV-SPEECH-RATE"]
    findings = [_finding(rule_id, Dimension.ATTITUDE, [i], deduction=40) for i, rule_id in enumerate(attitude_rules)]
    assert score(findings, scorecard).scores[Dimension.ATTITUDE] == 0
