"""Training tier 1 (scikit-learn; never imported by inference).

Per code, a logistic regression on [TF-IDF(turn) ⊕ e5(turn) ⊕ e5(context)] over the units of the code's role.
Out-of-fold logits (folds = writers of the development conversations, the written and rule examples always in
training) give a Platt calibration, then per-code thresholds: the lowest probability at which the failures tier 1
would add on the development conversations reach the target precision, and a strict veto below which a rule
failure is overturned — only where no true rule failure would be lost and a false one is removed."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.models import Finding, Verdict
from tools.small_model.dataset import EXTRA_GROUP, TrainingUnit
from tools.small_model.features import Matrix
from tools.small_model.model import CodePolicy, TierOneModel
from tools.small_model.provider import MODEL_NAME, TurnEmbedder
from tools.small_model.text import NGRAM_RANGE, analyzer, normalize
from tools.small_model.units import labelled_unit_turns, unit_role

# Absence (a greeting, a disclosure never made) and timing cannot be seen in one turn: left to the rules.
JUDGED_CODES = (
    "B01", "B02", "B03", "C01", "C02", "C03", "C04", "C05", "C07", "C08",
    "C09", "C10", "C11", "C12", "S01", "S02", "X01", "X02",
)  # fmt: skip


@dataclass(frozen=True)
class TrainingConfig:
    """Everything besides the data that decides the model (hashed into its version)."""

    codes: tuple[str, ...] = JUDGED_CODES
    min_df: int = 2
    regularisation: float = 1.0
    text_weight: float = 1.0
    context_weight: float = 0.5
    target_precision: float = 0.8
    min_true_positives: int = 2
    floor: float = 0.5
    veto_ceiling: float = 0.2


@dataclass(frozen=True)
class DevConversation:
    """A development conversation as threshold selection sees it: gold codes and the rule tier's findings."""

    id: str
    gold: frozenset[str]
    rule_findings: list[Finding]
    turns: list[tuple[Any, str]]  # (role, text) of each turn


@dataclass
class TrainingReport:
    """What training measured: sizes, seconds, and out-of-fold predictions on the development conversations."""

    sizes: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    oof_codes: dict[str, set[str]] = field(default_factory=dict)  # conversation → codes after tier 1 (rules+t1)
    rule_codes: dict[str, set[str]] = field(default_factory=dict)


def _fit_vectorizer(texts: list[str], min_df: int) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=min_df, sublinear_tf=True, dtype=np.float32)
    vectorizer.fit(texts)
    return vectorizer


def _fit(units: Sequence[TrainingUnit], text_vecs: Matrix, ctx_vecs: Matrix, config: TrainingConfig) -> TierOneModel:
    """Raw (uncalibrated) classifiers for every code: Platt (1, 0), no thresholds."""
    from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]

    vectorizer = _fit_vectorizer([u.text for u in units], config.min_df)
    ngrams = vectorizer.transform([u.text for u in units])
    features = hstack(
        [ngrams, csr_matrix(text_vecs * config.text_weight), csr_matrix(ctx_vecs * config.context_weight)]
    ).tocsr()
    vocab_size, dim = ngrams.shape[1], text_vecs.shape[1]
    coefs = np.zeros((vocab_size + 2 * dim, len(config.codes)), dtype=np.float32)
    intercept = np.full(len(config.codes), -10.0, dtype=np.float32)
    for k, code in enumerate(config.codes):
        rows = [i for i, u in enumerate(units) if u.role is unit_role(code) and u.label(code) is not None]
        labels = np.asarray([bool(units[i].label(code)) for i in rows])
        if labels.sum() < 2 or labels.all():
            continue
        classifier = LogisticRegression(C=config.regularisation, class_weight="balanced", max_iter=3000)
        classifier.fit(features[rows], labels)
        coefs[:, k] = classifier.coef_[0]
        intercept[k] = classifier.intercept_[0]
    vocabulary = {str(w): int(i) for w, i in vectorizer.vocabulary_.items()}
    return TierOneModel(
        version="unversioned",
        policies=[CodePolicy(c, unit_role(c), None, None, (1.0, 0.0)) for c in config.codes],
        vocabulary=vocabulary,
        idf=vectorizer.idf_.astype(np.float32),
        coef_ngrams=coefs[:vocab_size],
        coef_text=(coefs[vocab_size : vocab_size + dim] * config.text_weight).astype(np.float32),
        coef_context=(coefs[vocab_size + dim :] * config.context_weight).astype(np.float32),
        intercept=intercept,
        example_codes=[],
        example_texts=[],
        example_vectors=np.zeros((0, dim), dtype=np.float32),
    )


def _logits(model: TierOneModel, units: Sequence[TrainingUnit], text_vecs: Matrix, ctx_vecs: Matrix) -> Matrix:
    from tools.small_model.features import NgramWeights

    ngrams = NgramWeights(model.vocabulary, model.idf)
    logits: Matrix = (
        ngrams.scores([u.text for u in units], model.coef_ngrams)
        + text_vecs @ model.coef_text
        + ctx_vecs @ model.coef_context
        + model.intercept
    )
    return logits


def _folds(units: Sequence[TrainingUnit]) -> list[str]:
    groups = sorted({u.group for u in units} - {EXTRA_GROUP})
    return groups


def _platt(logits: Matrix, labels: np.ndarray[Any, Any]) -> tuple[float, float]:
    if labels.sum() == 0 or labels.all():
        return (1.0, 0.0)
    calibrator = LogisticRegression(C=100.0, max_iter=1000)
    calibrator.fit(logits.reshape(-1, 1), labels)
    return (float(calibrator.coef_[0][0]), float(calibrator.intercept_[0]))


def _choose_threshold(scores: list[tuple[float, bool]], config: TrainingConfig) -> float | None:
    """Lowest probability at which the added failures (sorted by probability) keep the target precision."""
    chosen = None
    tp = fp = 0
    for probability, correct in sorted(scores, key=lambda s: -s[0]):
        if probability < config.floor:
            break
        tp, fp = tp + correct, fp + (not correct)
        if tp >= config.min_true_positives and tp / (tp + fp) >= config.target_precision:
            chosen = probability
    return chosen


def _choose_veto(true_hits: list[float], false_hits: list[float], config: TrainingConfig) -> float | None:
    """A veto below every true rule failure's probability (and the ceiling) that removes a false one."""
    if not true_hits or not false_hits:
        return None
    veto = min(min(true_hits), config.veto_ceiling)
    return veto if any(p < veto for p in false_hits) else None


def data_version(units: Sequence[TrainingUnit], config: TrainingConfig) -> str:
    """Hash of the training data and configuration: the model's version."""
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode())
    digest.update(f"{MODEL_NAME}|{NGRAM_RANGE}".encode())
    for u in units:
        digest.update(json.dumps([u.text, u.context, u.role.value, sorted(u.positive), sorted(u.unknown)]).encode())
    return digest.hexdigest()[:12]


def train(
    units: Sequence[TrainingUnit],
    dev: Sequence[DevConversation],
    embedder: TurnEmbedder,
    config: TrainingConfig = TrainingConfig(),
) -> tuple[TierOneModel, TrainingReport]:
    """Cross-validate on the development conversations, calibrate, choose policies, fit the shipped model."""
    report = TrainingReport()
    started = time.perf_counter()
    text_vecs = embedder.embed([u.text for u in units])
    ctx_vecs = embedder.embed([u.context for u in units])
    report.seconds["embed"] = time.perf_counter() - started

    started = time.perf_counter()
    oof = np.zeros((len(units), len(config.codes)), dtype=np.float32)
    held = np.zeros(len(units), dtype=bool)
    for group in _folds(units):
        train_rows = [i for i, u in enumerate(units) if u.group != group]
        test_rows = [i for i, u in enumerate(units) if u.group == group]
        model = _fit([units[i] for i in train_rows], text_vecs[train_rows], ctx_vecs[train_rows], config)
        oof[test_rows] = _logits(model, [units[i] for i in test_rows], text_vecs[test_rows], ctx_vecs[test_rows])
        held[test_rows] = True
    report.seconds["cross_validation"] = time.perf_counter() - started

    platt = {}
    for k, code in enumerate(config.codes):
        rows = [
            i
            for i in map(int, np.flatnonzero(held))
            if units[i].role is unit_role(code) and units[i].label(code) is not None
        ]
        platt[code] = _platt(oof[rows, k], np.asarray([bool(units[i].label(code)) for i in rows]))
    probabilities = {
        code: 1.0 / (1.0 + np.exp(-(platt[code][0] * oof[:, k] + platt[code][1])))
        for k, code in enumerate(config.codes)
    }
    policies = _policies(units, held, probabilities, dev, config, platt, report)

    started = time.perf_counter()
    model = _fit(units, text_vecs, ctx_vecs, config)
    report.seconds["fit"] = time.perf_counter() - started
    model.policies = policies
    model.version = data_version(units, config)
    examples = [(code, i) for i, u in enumerate(units) for code in sorted(u.positive) if code in config.codes]
    unique = list(dict.fromkeys((code, normalize(units[i].text), i) for code, i in examples))
    seen: set[tuple[str, str]] = set()
    kept = []
    for code, key, i in unique:
        if (code, key) not in seen:
            seen.add((code, key))
            kept.append((code, i))
    model.example_codes = [code for code, _ in kept]
    model.example_texts = [units[i].text for _, i in kept]
    model.example_vectors = text_vecs[[i for _, i in kept]] if kept else model.example_vectors
    report.sizes = {
        "units": len(units),
        "development_conversations": len(dev),
        "positives": {c: sum(1 for u in units if c in u.positive) for c in config.codes},
        "vocabulary": len(model.vocabulary),
    }
    model.manifest = {
        "embedding_model": MODEL_NAME,
        "config": asdict(config),
        "training_sizes": report.sizes,
        "training_seconds": {k: round(v, 2) for k, v in report.seconds.items()},
        "cross_validation": _cv_figures(dev, report),
    }
    return model, report


def _policies(
    units: Sequence[TrainingUnit],
    held: np.ndarray[Any, Any],
    probabilities: Mapping[str, np.ndarray[Any, Any]],
    dev: Sequence[DevConversation],
    config: TrainingConfig,
    platt: Mapping[str, tuple[float, float]],
    report: TrainingReport,
) -> list[CodePolicy]:
    by_turn: dict[tuple[str, int], int] = {
        (u.conversation, u.turn): i for i, u in enumerate(units) if held[i] and u.group != EXTRA_GROUP
    }
    policies = []
    for code in config.codes:
        p = probabilities[code]
        additions: list[tuple[float, bool]] = []
        true_hits: list[float] = []
        false_hits: list[float] = []
        for conversation in dev:
            rows = [r for (cid, _), r in by_turn.items() if cid == conversation.id and units[r].role is unit_role(code)]
            best = float(max((p[r] for r in rows), default=0.0))
            failed = [f for f in conversation.rule_findings if f.code == code and f.verdict is Verdict.FAIL]
            if not failed:
                additions.append((best, code in conversation.gold))
                continue
            turns = labelled_unit_turns(conversation.turns, [e.turn for f in failed for e in f.evidence], code)
            scored = [float(p[by_turn[(conversation.id, t)]]) for t in turns if (conversation.id, t) in by_turn]
            if scored:
                (true_hits if code in conversation.gold else false_hits).append(max(scored))
        threshold = _choose_threshold(additions, config)
        veto = _choose_veto(true_hits, false_hits, config)
        policies.append(CodePolicy(code, unit_role(code), threshold, veto, platt[code]))
        for conversation in dev:
            report.rule_codes.setdefault(conversation.id, set())
            report.oof_codes.setdefault(conversation.id, set())
    _replay_oof(units, by_turn, probabilities, dev, policies, report)
    return policies


def _replay_oof(
    units: Sequence[TrainingUnit],
    by_turn: Mapping[tuple[str, int], int],
    probabilities: Mapping[str, np.ndarray[Any, Any]],
    dev: Sequence[DevConversation],
    policies: Sequence[CodePolicy],
    report: TrainingReport,
) -> None:
    """Codes of each development conversation with rules alone and with tier 1 (out-of-fold probabilities)."""
    for conversation in dev:
        rules = {f.code for f in conversation.rule_findings if f.verdict is Verdict.FAIL}
        combined = set(rules)
        for policy in policies:
            p = probabilities[policy.code]
            rows = [r for (cid, _), r in by_turn.items() if cid == conversation.id and units[r].role is policy.role]
            best = float(max((p[r] for r in rows), default=0.0))
            failed = [f for f in conversation.rule_findings if f.code == policy.code and f.verdict is Verdict.FAIL]
            if not failed and policy.threshold is not None and best >= policy.threshold:
                combined.add(policy.code)
            if failed and policy.veto is not None:
                kept = False
                for finding in failed:
                    turns = labelled_unit_turns(conversation.turns, [e.turn for e in finding.evidence], policy.code)
                    scored = [float(p[by_turn[(conversation.id, t)]]) for t in turns if (conversation.id, t) in by_turn]
                    kept = kept or not scored or max(scored) >= policy.veto
                if not kept:
                    combined.discard(policy.code)
        report.rule_codes[conversation.id] = rules
        report.oof_codes[conversation.id] = combined


def _cv_figures(dev: Sequence[DevConversation], report: TrainingReport) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, predicted in (("rules", report.rule_codes), ("rules_tier1", report.oof_codes)):
        tp = fp = fn = clean = clean_alarm = 0
        for c in dev:
            got = predicted.get(c.id, set())
            tp += len(got & c.gold)
            fp += len(got - c.gold)
            fn += len(c.gold - got)
            if not c.gold:
                clean += 1
                clean_alarm += bool(got)
        figures[name] = {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "clean_false_alarm_rate": round(clean_alarm / clean, 3) if clean else None,
        }
    figures["note"] = "out-of-fold by writer on the development part; thresholds chosen on the same predictions"
    return figures
