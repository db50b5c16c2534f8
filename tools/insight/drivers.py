"""Drivers: which failure codes go with conversion or CSAT in the caller's scope, with effect size and n."""

from __future__ import annotations

from typing import Literal

from core.access import Principal
from core.models import Verdict
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from tools.insight.models import MIN_N, Driver, Drivers, Slice
from tools.insight.scope import evaluated

Outcome = Literal["conversion", "csat"]


def outcome_drivers(
    store: Store, principal: Principal, outcome: Outcome, *, part: Slice | None = None, limit: int = 8
) -> Drivers:
    """For each failure code: the outcome of calls failing it vs calls not failing it, largest effect first.
    Codes with fewer than MIN_N calls on either side are kept but marked `small_n`."""
    value = ConversationRow.converted if outcome == "conversion" else ConversationRow.csat
    calls = evaluated(principal, part, EvaluationRow.id, value).where(value.is_not(None))
    pairs = (
        evaluated(principal, part, FindingRow.code, EvaluationRow.id)
        .join(FindingRow, FindingRow.evaluation_id == EvaluationRow.id)
        .where(FindingRow.verdict == Verdict.FAIL.value, value.is_not(None))
        .distinct()
    )
    with store.session() as s:
        outcomes = {evaluation_id: float(v) for evaluation_id, v in s.execute(calls)}
        per_code: dict[str, set[str]] = {}
        for code, evaluation_id in s.execute(pairs):
            per_code.setdefault(code, set()).add(evaluation_id)
    drivers = []
    for code, failing in per_code.items():
        with_values = [outcomes[e] for e in failing if e in outcomes]
        without_values = [v for e, v in outcomes.items() if e not in failing]
        drivers.append(_driver(code, outcome, with_values, without_values))
    drivers.sort(key=lambda d: (d.small_n, -abs(d.effect or 0), d.code))
    note = None
    if len(outcomes) < 2 * MIN_N:
        note = f"only {len(outcomes)} calls with a known {outcome} in this scope: too few to conclude"
    return Drivers(outcome=outcome, n=len(outcomes), drivers=drivers[:limit], note=note)


def _driver(code: str, outcome: Outcome, with_values: list[float], without_values: list[float]) -> Driver:
    n_with, n_without = len(with_values), len(without_values)
    with_mean = round(sum(with_values) / n_with, 3) if n_with else None
    without_mean = round(sum(without_values) / n_without, 3) if n_without else None
    effect = round(with_mean - without_mean, 3) if with_mean is not None and without_mean is not None else None
    p_value: float | None = None
    if n_with and n_without:
        from scipy.stats import fisher_exact, mannwhitneyu  # type: ignore[import-untyped]  # 0.6 s: only when tested

        if outcome == "conversion":
            a, b = int(sum(with_values)), int(sum(without_values))
            p_value = float(fisher_exact([[a, n_with - a], [b, n_without - b]])[1])
        elif len(set(with_values) | set(without_values)) > 1:
            p_value = float(mannwhitneyu(with_values, without_values).pvalue)
    return Driver(
        code=code,
        outcome=outcome,
        with_fail=with_mean,
        without_fail=without_mean,
        effect=effect,
        n_with=n_with,
        n_without=n_without,
        p_value=None if p_value is None else round(p_value, 4),
        small_n=n_with < MIN_N or n_without < MIN_N,
    )
