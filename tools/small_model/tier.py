"""Applying tier 1 to one conversation's rule findings: add failures the rules missed, veto ones they got wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.models import Conversation, Evidence, Finding, Tier, Verdict
from core.scorecard import Rule, Scorecard
from tools.small_model.features import Matrix
from tools.small_model.model import DEFAULT_MODEL_DIR, CodePolicy, TierOneModel
from tools.small_model.provider import TurnEmbedder
from tools.small_model.units import Unit, conversation_units, labelled_unit_turns

_MAX_QUOTE = 80


@dataclass(frozen=True)
class TurnScores:
    """Tier-1 probabilities of one conversation: per unit and code, with the units' embeddings (if the model
    uses them)."""

    units: list[Unit]
    probabilities: Matrix
    vectors: Matrix | None


class SmallModelTier:
    """The tier-1 model with its embedding provider; build once and reuse across conversations.

    A model trained on TF-IDF features alone never loads the embedding model."""

    def __init__(self, model: TierOneModel, embedder: TurnEmbedder | None = None) -> None:
        self.model = model
        self._embedder = embedder

    @property
    def embedder(self) -> TurnEmbedder:
        """The turn-embedding provider (created on first use)."""
        if self._embedder is None:
            self._embedder = TurnEmbedder(threads=1)
        return self._embedder

    @classmethod
    def load(cls, folder: Path, embedder: TurnEmbedder | None = None) -> SmallModelTier:
        """The model in `folder` (written by `zhijian train`)."""
        return cls(TierOneModel.load(folder), embedder)

    @classmethod
    def load_default(cls, embedder: TurnEmbedder | None = None) -> SmallModelTier:
        """The model that ships in knowledge/models/tier1."""
        return cls.load(DEFAULT_MODEL_DIR, embedder)

    @property
    def model_name(self) -> str:
        """What findings decided by this tier record as their model."""
        return f"tier1-{self.model.version}"

    def score(self, conversation: Conversation) -> TurnScores:
        """Probabilities of every code on every unit; the turns are embedded in one batch (cached by text)."""
        units = conversation_units(conversation)
        if not self.model.uses_embeddings:
            return TurnScores(units, self.model.probabilities(units), None)
        vectors = self.embedder.embed([u.text for u in units] + [u.context for u in units])
        text_vectors, context_vectors = vectors[: len(units)], vectors[len(units) :]
        return TurnScores(units, self.model.probabilities(units, text_vectors, context_vectors), text_vectors)

    def apply(self, conversation: Conversation, findings: list[Finding], scorecard: Scorecard) -> list[Finding]:
        """The findings with tier 1's additions and vetoes (same length and order as the input)."""
        scores = self.score(conversation)
        result = list(findings)
        turns = [(t.role, t.text) for t in conversation.turns]
        row_of = {u.turn: i for i, u in enumerate(scores.units)}
        for k, policy in enumerate(self.model.policies):
            failed = [i for i, f in enumerate(result) if f.code == policy.code and f.verdict is Verdict.FAIL]
            if failed and policy.veto is not None:
                for i in failed:
                    rows = [
                        row_of[t]
                        for t in labelled_unit_turns(turns, [e.turn for e in result[i].evidence], policy.code)
                        if t in row_of
                    ]
                    if rows and float(scores.probabilities[rows, k].max()) < policy.veto:
                        result[i] = self._veto(result[i], float(scores.probabilities[rows, k].max()), policy)
            elif not failed and policy.threshold is not None:
                rows = _looked_at(scores.units, policy)
                if not rows:
                    continue
                best = rows[int(np.argmax(scores.probabilities[rows, k]))]
                probability = float(scores.probabilities[best, k])
                if probability >= policy.threshold:
                    target = _target_rule(policy.code, result, scorecard)
                    if target is not None:
                        result[target] = self._fail(result[target], conversation, scores, best, probability, scorecard)
        return result

    def _fail(
        self,
        finding: Finding,
        conversation: Conversation,
        scores: TurnScores,
        row: int,
        probability: float,
        scorecard: Scorecard,
    ) -> Finding:
        rule = scorecard.rule(finding.rule_id)
        unit = scores.units[row]
        turn = conversation.turns[unit.turn]
        vector = None if scores.vectors is None else scores.vectors[row]
        nearest = self.model.nearest_example(finding.code, unit.text, vector)
        resembles = f"；与已标注违规相似：“{nearest[:_MAX_QUOTE]}”" if nearest else ""
        return finding.model_copy(
            update={
                "verdict": Verdict.FAIL,
                "tier": Tier.SMALL_MODEL,
                "model": self.model_name,
                "probability": round(probability, 4),
                "confidence": round(probability, 4),
                "evidence": [
                    Evidence(
                        turn=turn.index, role=turn.role, quote=turn.text[:_MAX_QUOTE], start=turn.start, end=turn.end
                    )
                ],
                "explanation": (
                    f"{rule.name}：小模型判断第{turn.index + 1}轮可能违规（概率 {probability:.2f}）{resembles}"
                ),
                "deduction": rule.deduction,
                "auto_fail": rule.auto_fail,
            }
        )

    def _veto(self, finding: Finding, probability: float, policy: CodePolicy) -> Finding:
        return finding.model_copy(
            update={
                "verdict": Verdict.PASS,
                "tier": Tier.SMALL_MODEL,
                "model": self.model_name,
                "probability": round(probability, 4),
                "confidence": round(1 - probability, 4),
                "explanation": (
                    f"规则命中被小模型否决：证据轮次的违规概率 {probability:.2f} 低于否决阈值 {policy.veto:.2f}"
                    f"（原判：{finding.explanation}）"
                ),
                "deduction": 0,
                "auto_fail": False,
                "needs_review": False,
            }
        )


def _looked_at(units: list[Unit], policy: CodePolicy) -> list[int]:
    """Rows of the units that may add a failure of the policy's code: its role's, the last `window` of them."""
    rows = [i for i, u in enumerate(units) if u.role is policy.role]
    return rows[-policy.window :] if policy.window else rows


def _target_rule(code: str, findings: list[Finding], scorecard: Scorecard) -> int | None:
    """The finding tier 1 turns into a failure: an applicable rule of the code first, else the code's first rule."""
    rules: dict[str, Rule] = {r.id: r for r in scorecard.rules}
    candidates = [
        i
        for i, f in enumerate(findings)
        if f.code == code and f.rule_id in rules and rules[f.rule_id].check.type != "timing"
    ]
    if not candidates:
        return None
    applicable = [i for i in candidates if findings[i].verdict is not Verdict.NOT_APPLICABLE]
    return (applicable or candidates)[0]
