"""Deciding how tier 1 may act on each code, from out-of-fold probabilities on the development conversations.

Per code: the lowest probability at which the failures tier 1 would add keep the target precision (with at least
`min_true_positives` of them: the gate), and a strict veto below which a rule failure is overturned — only where
no true rule failure would be lost and a false one removed. Codes about the end of the call look only at the last
units of their role. The same replay measures rules alone, rules + tier 1 with policies chosen on all development
conversations, and (honest) with policies chosen without the writer being measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.models import Finding, Role, Verdict
from tools.small_model.model import CodePolicy
from tools.small_model.units import labelled_unit_turns, unit_role

Probabilities = Mapping[str, npt.NDArray[np.float32]]  # code → probability per training unit


@dataclass(frozen=True)
class DevConversation:
    """A development conversation as policy selection sees it: gold codes and the rule tier's findings."""

    id: str
    gold: frozenset[str]
    rule_findings: list[Finding]
    turns: list[tuple[Role, str]]  # (role, text) of each turn
    writer: str = ""


@dataclass(frozen=True)
class PolicySettings:
    """The knobs of policy selection (part of the training configuration)."""

    target_precision: float
    min_true_positives: int
    floor: float
    veto_ceiling: float
    windows: Mapping[str, int]
    written_precision: float | None = None  # None: the dev conversations alone gate a code
    written_recall: float = 0.5
    veto_margin: float = 0.5  # the veto sits at this fraction of the lowest true rule failure's probability
    # True: a code's threshold is chosen on every development conversation (the classifier's own precision), not
    # only on those the rules passed — rules tuned on the development part leave too few misses there to learn from.
    standalone: bool = True


@dataclass(frozen=True)
class CodeEvidence:
    """What one code's out-of-fold probabilities say on one development conversation."""

    best: float  # the highest probability among the units tier 1 looks at for an addition
    rule_failed: bool
    rule_evidence: float | None  # highest probability among the rule failures' evidence units (None: none scored)


def code_evidence(
    conversation: DevConversation,
    code: str,
    rows: Mapping[int, int],
    probabilities: npt.NDArray[np.float32],
    window: int | None,
) -> CodeEvidence:
    """The evidence for one code on one conversation; `rows` maps turn index → training unit row."""
    role = unit_role(code)
    own = [rows[t] for t in sorted(rows) if conversation.turns[t][0] is role]
    looked_at = own[-window:] if window else own
    best = float(max((probabilities[r] for r in looked_at), default=0.0))
    failed = [f for f in conversation.rule_findings if f.code == code and f.verdict is Verdict.FAIL]
    turns = labelled_unit_turns(conversation.turns, [e.turn for f in failed for e in f.evidence], code)
    scored = [float(probabilities[rows[t]]) for t in turns if t in rows]
    return CodeEvidence(best, bool(failed), max(scored) if scored else None)


def _written_holds(written: Sequence[tuple[float, bool]], threshold: float, settings: PolicySettings) -> bool:
    """Whether held-out written examples of the code back a threshold: precision against the hard near misses and
    recall of the paraphrased violations."""
    if settings.written_precision is None:
        return False
    flagged = [violation for probability, violation in written if probability >= threshold]
    violations = sum(violation for _, violation in written)
    return (
        bool(flagged)
        and sum(flagged) / len(flagged) >= settings.written_precision
        and violations > 0
        and sum(flagged) / violations >= settings.written_recall
    )


def choose_threshold(
    additions: Sequence[tuple[float, bool]],
    settings: PolicySettings,
    written: Sequence[tuple[float, bool]] = (),
) -> float | None:
    """Lowest probability at which the added failures (sorted by probability) keep the target precision.

    The gate: at least `min_true_positives` correct additions on the development conversations, or — for a code
    with few labelled calls — at least one, when the held-out written examples back the threshold."""
    chosen = None
    tp = fp = 0
    for probability, correct in sorted(additions, key=lambda s: -s[0]):
        if probability < settings.floor:
            break
        tp, fp = tp + correct, fp + (not correct)
        precise = tp > 0 and tp / (tp + fp) >= settings.target_precision
        if precise and (tp >= settings.min_true_positives or _written_holds(written, probability, settings)):
            chosen = probability
    return chosen


def choose_veto(true_hits: Sequence[float], false_hits: Sequence[float], settings: PolicySettings) -> float | None:
    """A veto well below every true rule failure's probability (and the ceiling) that removes a false one."""
    if not true_hits or not false_hits:
        return None
    veto = min(min(true_hits) * settings.veto_margin, settings.veto_ceiling)
    return veto if any(p < veto for p in false_hits) else None


def choose_policies(
    codes: Sequence[str],
    evidence: Mapping[tuple[str, str], CodeEvidence],
    dev: Sequence[DevConversation],
    platt: Mapping[str, tuple[float, float]],
    settings: PolicySettings,
    written: Mapping[str, Sequence[tuple[float, bool]]] | None = None,
) -> list[CodePolicy]:
    """One policy per code from the evidence on the given development conversations (and, for the gate, the
    held-out written examples' (probability, violation) per code)."""
    policies = []
    for code in codes:
        additions: list[tuple[float, bool]] = []
        true_hits: list[float] = []
        false_hits: list[float] = []
        for conversation in dev:
            seen = evidence[(conversation.id, code)]
            if settings.standalone or not seen.rule_failed:
                additions.append((seen.best, code in conversation.gold))
            if seen.rule_failed and seen.rule_evidence is not None:
                (true_hits if code in conversation.gold else false_hits).append(seen.rule_evidence)
        policies.append(
            CodePolicy(
                code,
                unit_role(code),
                choose_threshold(additions, settings, (written or {}).get(code, ())),
                choose_veto(true_hits, false_hits, settings),
                platt[code],
                settings.windows.get(code),
            )
        )
    return policies


def replay(
    conversation: DevConversation,
    policies: Sequence[CodePolicy],
    evidence: Mapping[tuple[str, str], CodeEvidence],
    *,
    with_rules: bool = True,
) -> set[str]:
    """The codes a development conversation fails with rules and tier 1 under `policies` (or tier 1 alone)."""
    if not with_rules:
        return {
            p.code
            for p in policies
            if p.threshold is not None and evidence[(conversation.id, p.code)].best >= p.threshold
        }
    codes = {f.code for f in conversation.rule_findings if f.verdict is Verdict.FAIL}
    for policy in policies:
        seen = evidence[(conversation.id, policy.code)]
        if not seen.rule_failed and policy.threshold is not None and seen.best >= policy.threshold:
            codes.add(policy.code)
        if (
            seen.rule_failed
            and policy.veto is not None
            and seen.rule_evidence is not None
            and seen.rule_evidence < policy.veto
        ):
            codes.discard(policy.code)
    return codes


def figures(dev: Sequence[DevConversation], predicted: Mapping[str, set[str]]) -> dict[str, Any]:
    """Micro precision/recall/F1 and the clean-call false-alarm rate of predicted codes, with per-code counts."""
    tp = fp = fn = clean = clean_alarm = 0
    per_code: dict[str, list[int]] = {}
    for c in dev:
        got = predicted.get(c.id, set())
        tp += len(got & c.gold)
        fp += len(got - c.gold)
        fn += len(c.gold - got)
        for code in got | c.gold:
            counts = per_code.setdefault(code, [0, 0, 0])
            counts[0 if code in got & c.gold else 1 if code in got else 2] += 1
        if not c.gold:
            clean += 1
            clean_alarm += bool(got)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "precision": None if precision is None else round(precision, 3),
        "recall": None if recall is None else round(recall, 3),
        "f1": None if f1 is None else round(f1, 3),
        "clean_false_alarm_rate": round(clean_alarm / clean, 3) if clean else None,
        "per_code": {code: dict(zip(("tp", "fp", "fn"), n, strict=True)) for code, n in sorted(per_code.items())},
    }


def nested_replay(
    codes: Sequence[str],
    evidence: Mapping[tuple[str, str], CodeEvidence],
    dev: Sequence[DevConversation],
    platt: Mapping[str, tuple[float, float]],
    settings: PolicySettings,
    written: Mapping[str, Sequence[tuple[float, bool]]] | None = None,
    *,
    with_rules: bool = True,
) -> dict[str, set[str]]:
    """Codes of each development conversation with policies chosen on the other writers' conversations only."""
    predicted: dict[str, set[str]] = {}
    for writer in sorted({c.writer for c in dev}):
        others = [c for c in dev if c.writer != writer]
        policies = choose_policies(codes, evidence, others, platt, settings, written)
        for conversation in dev:
            if conversation.writer == writer:
                predicted[conversation.id] = replay(conversation, policies, evidence, with_rules=with_rules)
    return predicted
