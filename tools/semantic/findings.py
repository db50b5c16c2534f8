"""From a rule's LLM judgement to its finding: thresholds, evidence lines, the injection guard, second opinions.

A verdict is acted on only at or above its rule's threshold; below it the rule is `not_evaluated` and needs
review with the reason — never a deduction. A rule-tier failure stays a failure unless a second opinion says
"no violation" at or above the rule's veto threshold (none by default), and never when the transcript
addresses the QA system.
"""

from __future__ import annotations

from typing import Any

from core.models import Conversation, Evidence, Finding, Tier, Verdict
from core.scorecard import Rule
from tools.semantic.answer import Judgement
from tools.semantic.thresholds import RuleThreshold

QUOTE_CHARS = 300


def _below(probability: float, threshold: float | None) -> bool:
    return threshold is None or probability < threshold


def _threshold_text(threshold: float | None) -> str:
    return "未设（本规则的这一结论一律人工复核）" if threshold is None else f"{threshold:.2f}"


def evidence_lines(conversation: Conversation, turns: list[int]) -> list[Evidence]:
    """The cited lines as they stand in the transcript (the model cites line ids, never paraphrases)."""
    out = []
    for turn in turns:
        if 0 <= turn < len(conversation.turns):
            u = conversation.turns[turn]
            out.append(Evidence(turn=turn, role=u.role, quote=u.text[:QUOTE_CHARS], start=u.start, end=u.end))
    return out


def _hostile_evidence(conversation: Conversation, hostile: list[int]) -> list[Evidence]:
    return [
        Evidence(turn=i, role=conversation.turns[i].role, quote=conversation.turns[i].text[:80]) for i in hostile[:3]
    ]


def _hostile_note(rule: Rule, hostile: list[int]) -> str:
    turns = "、".join(map(str, hostile))
    return f"{rule.name}：第 {turns} 轮含针对质检系统的指令，大模型的合规结论不予采信，需人工复核"


def semantic_finding(
    conversation: Conversation,
    rule: Rule,
    base: Finding,
    judgement: Judgement | None,
    error: str | None,
    hostile: list[int],
    threshold: RuleThreshold,
    stamp: dict[str, Any],
) -> Finding:
    """A semantic rule decided by the LLM tier: fail, pass, or not_evaluated with the reason."""
    review = {**stamp, "tier": Tier.LLM, "verdict": Verdict.NOT_EVALUATED, "needs_review": True, "deduction": 0}
    if judgement is None:
        return base.model_copy(update={**review, "explanation": f"{rule.name}：大模型未给出结论（{error}）"})
    p = judgement.verdict_probability
    common = {
        **stamp,
        "tier": Tier.LLM,
        "confidence": p,
        "probability": judgement.violation_probability,
        "evidence": evidence_lines(conversation, judgement.evidence),
    }
    if judgement.verdict == "cannot_tell":
        return base.model_copy(
            update={**review, **common, "explanation": f"{rule.name}：大模型无法判断（{judgement.reason}），需人工复核"}
        )
    if judgement.verdict == "violation":
        if not common["evidence"]:
            return base.model_copy(
                update={
                    **review,
                    **common,
                    "explanation": f"{rule.name}：大模型判定违规但没有指出原文行，需人工复核（{judgement.reason}）",
                }
            )
        if _below(p, threshold.violation):
            return base.model_copy(
                update={
                    **review,
                    **common,
                    "explanation": f"{rule.name}：大模型判定违规，但概率 {p:.2f} 低于本规则阈值 "
                    f"{_threshold_text(threshold.violation)}，需人工复核（{judgement.reason}）",
                }
            )
        return base.model_copy(
            update={
                **common,
                "verdict": Verdict.FAIL,
                "deduction": rule.deduction,
                "auto_fail": rule.auto_fail,
                "explanation": f"{rule.name}：{judgement.reason}（大模型，概率 {p:.2f}）",
            }
        )
    if hostile:
        return base.model_copy(
            update={
                **review,
                **common,
                "evidence": _hostile_evidence(conversation, hostile),
                "explanation": _hostile_note(rule, hostile),
            }
        )
    if _below(p, threshold.no_violation):
        return base.model_copy(
            update={
                **review,
                **common,
                "explanation": f"{rule.name}：大模型认为未违规，但概率 {p:.2f} 低于本规则阈值 "
                f"{_threshold_text(threshold.no_violation)}，需人工复核（{judgement.reason}）",
            }
        )
    return base.model_copy(
        update={
            **common,
            "verdict": Verdict.PASS,
            "deduction": 0,
            "explanation": f"{rule.name}：{judgement.reason}（大模型，未违规概率 {p:.2f}）",
        }
    )


def second_opinion_finding(
    conversation: Conversation,
    rule: Rule,
    base: Finding,
    judgement: Judgement | None,
    error: str | None,
    hostile: list[int],
    threshold: RuleThreshold,
    stamp: dict[str, Any],
) -> Finding:
    """A rule-tier failure reviewed by the LLM: it stays a failure unless a confident veto overturns it."""
    if judgement is None:
        return base.model_copy(update={"explanation": f"{base.explanation}（大模型复核失败：{error}）"})
    p = judgement.verdict_probability
    noted = {**stamp, "probability": judgement.violation_probability}
    if judgement.verdict == "violation":
        if _below(p, threshold.violation):
            note = f"大模型复核倾向同意，但概率 {p:.2f} 低于阈值 {_threshold_text(threshold.violation)}"
            return base.model_copy(
                update={**noted, "needs_review": True, "explanation": f"{base.explanation}（{note}）"}
            )
        return base.model_copy(
            update={
                **noted,
                "confidence": max(base.confidence, p),
                "explanation": f"{base.explanation}（大模型复核同意，概率 {p:.2f}）",
            }
        )
    if judgement.verdict == "cannot_tell":
        note = f"大模型复核无法判断：{judgement.reason}"
        return base.model_copy(update={**noted, "needs_review": True, "explanation": f"{base.explanation}（{note}）"})
    if hostile:
        note = f"大模型复核不同意，但第 {'、'.join(map(str, hostile))} 轮含针对质检系统的指令，不予采信"
        return base.model_copy(update={**noted, "needs_review": True, "explanation": f"{base.explanation}（{note}）"})
    if _below(p, threshold.veto):
        note = f"大模型复核不同意：{judgement.reason}；概率 {p:.2f} 未达推翻阈值 {_threshold_text(threshold.veto)}"
        return base.model_copy(update={**noted, "needs_review": True, "explanation": f"{base.explanation}（{note}）"})
    return base.model_copy(
        update={
            **noted,
            "tier": Tier.LLM,
            "verdict": Verdict.PASS,
            "deduction": 0,
            "auto_fail": False,
            "needs_review": False,
            "confidence": p,
            "evidence": evidence_lines(conversation, judgement.evidence),
            "explanation": f"{rule.name}：大模型复核推翻规则层判定（{judgement.reason}；"
            f"未违规概率 {p:.2f} ≥ 阈值 {threshold.veto:.2f}）",
        }
    )
