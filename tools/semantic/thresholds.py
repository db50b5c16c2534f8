"""Per-rule thresholds on the LLM verdict's probability, and how they are learned on the development part.

Below its threshold a verdict is not acted on: the rule becomes `not_evaluated` and needs review, never a
deduction. Three thresholds per rule (a missing rule uses `default`):
- violation: least P(violation) for an LLM violation of a semantic rule to deduct points;
- no_violation: least P(no violation) for an LLM "no violation" to count as a pass;
- veto: least P(no violation) for a second opinion to overturn a rule-tier failure (None: never).
A threshold of None means the model never decides that outcome alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from core.yamldoc import load_yaml
from tools.semantic.answer import VerdictLabel

PACKAGED_THRESHOLDS = Path(__file__).resolve().parents[2] / "knowledge" / "llm_thresholds.yaml"


class RuleThreshold(BaseModel):
    """The three thresholds of one rule, and how many development observations each rests on."""

    model_config = ConfigDict(extra="forbid")

    violation: float | None = Field(default=0.8, ge=0, le=1)
    no_violation: float | None = Field(default=0.6, ge=0, le=1)
    veto: float | None = Field(default=None, ge=0, le=1)
    support: dict[str, int] = Field(default_factory=dict, description="Observations behind each threshold.")


class LearnedFrom(BaseModel):
    """Provenance: which data, model and prompt the thresholds were learned with (or that they were not)."""

    model_config = ConfigDict(extra="forbid")

    method: str
    part: Literal["dev", "none"] = "none"
    split_version: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    target_precision: float | None = None
    min_support: int | None = None
    conversations: int = 0
    date: str | None = None


class LlmThresholds(BaseModel):
    """The thresholds file (knowledge/llm_thresholds.yaml)."""

    model_config = ConfigDict(extra="forbid")

    version: str
    learned: LearnedFrom
    default: RuleThreshold = Field(default_factory=RuleThreshold)
    rules: dict[str, RuleThreshold] = Field(default_factory=dict)

    def for_rule(self, rule_id: str) -> RuleThreshold:
        """The rule's thresholds, or the defaults."""
        return self.rules.get(rule_id, self.default)

    @property
    def fingerprint(self) -> str:
        """A short hash of the contents: changes whenever any threshold changes."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]

    @classmethod
    def permissive(cls) -> LlmThresholds:
        """Every verdict acted on (veto included): for recording raw verdicts while learning, never for scoring."""
        return cls(
            version="permissive",
            learned=LearnedFrom(method="none: every verdict accepted, for learning only"),
            default=RuleThreshold(violation=0.0, no_violation=0.0, veto=0.0),
        )


def load_thresholds(path: Path = PACKAGED_THRESHOLDS) -> LlmThresholds:
    """Read and validate a thresholds file."""
    return LlmThresholds.model_validate(load_yaml(path.read_text(encoding="utf-8")))


def save_thresholds(thresholds: LlmThresholds, path: Path) -> None:
    """Write a thresholds file (YAML, keys in a stable order)."""
    body = yaml.safe_dump(thresholds.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    path.write_text("# Written by benchmarks/llm_accuracy.py --learn; see tools/semantic/thresholds.py.\n" + body)


@dataclass(frozen=True)
class Observation:
    """One LLM verdict on a development conversation, and whether the rule's code is in its labels."""

    rule_id: str
    purpose: Literal["semantic", "second_opinion"]
    verdict: VerdictLabel
    verdict_probability: float
    gold_violation: bool


def lowest_threshold(scored: list[tuple[float, bool]], target_precision: float, min_support: int) -> float | None:
    """The least probability t such that verdicts with p ≥ t are right at least target_precision of the time,
    over at least min_support of them; None when no t reaches it."""
    for t in sorted({p for p, _ in scored}):
        kept = [right for p, right in scored if p >= t]
        if len(kept) >= min_support and sum(kept) / len(kept) >= target_precision:
            return round(t, 4)
    return None


def learn_thresholds(
    observations: Iterable[Observation],
    *,
    learned: LearnedFrom,
    target_precision: float = 0.9,
    min_support: int = 3,
    default: RuleThreshold | None = None,
) -> LlmThresholds:
    """Per-rule thresholds from development observations. A rule with fewer than min_support observations of a
    kind keeps the default for it; one with enough but never precise enough gets None (always review)."""
    default = default or RuleThreshold()
    by_rule: dict[str, list[Observation]] = {}
    for o in observations:
        by_rule.setdefault(o.rule_id, []).append(o)
    rules: dict[str, RuleThreshold] = {}
    for rule_id, seen in sorted(by_rule.items()):
        kinds = {
            "violation": [(o.verdict_probability, o.gold_violation) for o in seen if o.verdict == "violation"],
            "no_violation": [
                (o.verdict_probability, not o.gold_violation)
                for o in seen
                if o.verdict == "no_violation" and o.purpose == "semantic"
            ],
            "veto": [
                (o.verdict_probability, not o.gold_violation)
                for o in seen
                if o.verdict == "no_violation" and o.purpose == "second_opinion"
            ],
        }
        values: dict[str, float | None] = {}
        for kind, scored in kinds.items():
            fallback = getattr(default, kind)
            enough = len(scored) >= min_support
            values[kind] = lowest_threshold(scored, target_precision, min_support) if enough else fallback
        rules[rule_id] = RuleThreshold(
            violation=values["violation"],
            no_violation=values["no_violation"],
            veto=values["veto"],
            support={kind: len(scored) for kind, scored in kinds.items()},
        )
    learned = learned.model_copy(update={"target_precision": target_precision, "min_support": min_support})
    return LlmThresholds(version=f"learned-{learned.date or 'undated'}", learned=learned, default=default, rules=rules)
