"""Comparisons and rankings of agents, teams, branches, sub-branches or scenarios, grouped in SQL."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Select, distinct, func

from core.access import Principal
from core.models import Verdict
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from tools.insight.catalog import RuleCatalog
from tools.insight.models import MIN_N, Comparison, GroupLevel, GroupRow, RuleRate, Slice
from tools.insight.scope import GROUP_COLUMNS, evaluated, mean, rate
from tools.insight.stats import converted_sum, rule_rates

Metric = Literal["total", "compliance", "attitude", "competence", "experience", "conversion", "csat", "fail_rate"]
LOWER_IS_WORSE = {"total", "compliance", "attitude", "competence", "experience", "conversion", "csat"}


def _aggregates() -> list[Any]:
    return [
        func.count(EvaluationRow.id),
        func.avg(EvaluationRow.total),
        func.avg(EvaluationRow.compliance),
        func.avg(EvaluationRow.attitude),
        func.avg(EvaluationRow.competence),
        func.avg(EvaluationRow.experience),
        func.count(ConversationRow.converted),
        converted_sum(),
        func.count(ConversationRow.csat),
        func.avg(ConversationRow.csat),
    ]


def _failing(
    principal: Principal, part: Slice | None, code: str | None, dimension: str | None, *group: Any
) -> Select[Any]:
    query = (
        evaluated(principal, part, *group, func.count(distinct(FindingRow.evaluation_id)))
        .join(FindingRow, FindingRow.evaluation_id == EvaluationRow.id)
        .where(FindingRow.verdict == Verdict.FAIL.value)
    )
    if code is not None:
        query = query.where(FindingRow.code == code)
    if dimension is not None:
        query = query.where(FindingRow.dimension == dimension)
    return query.group_by(*group) if group else query


def _row(key: str, values: tuple[Any, ...], fails: int) -> GroupRow:
    n, total, comp, att, cmp_, exp, conv_n, conv, csat_n, csat = values
    return GroupRow(
        key=key,
        n=int(n),
        total=mean(total),
        compliance=mean(comp),
        attitude=mean(att),
        competence=mean(cmp_),
        experience=mean(exp),
        conversion=rate(int(conv or 0), int(conv_n)),
        conversion_n=int(conv_n),
        csat=None if csat is None else round(float(csat), 2),
        csat_n=int(csat_n),
        fails=fails,
        fail_rate=rate(fails, int(n)),
        small_n=int(n) < MIN_N,
    )


def compare_groups(
    store: Store,
    principal: Principal,
    level: GroupLevel,
    *,
    part: Slice | None = None,
    metric: Metric = "total",
    code: str | None = None,
    dimension: str | None = None,
    keys: list[str] | None = None,
) -> Comparison:
    """One row per group in scope (optionally only `keys`), worst first by `metric`, plus the overall row of
    the whole scope. `fail_rate` is the share of calls failing `code` (or a rule of `dimension`, or any rule)."""
    column = GROUP_COLUMNS[level]
    grouped = evaluated(principal, part, column, *_aggregates()).group_by(column)
    fails_query = _failing(principal, part, code, dimension, column)
    if keys:
        grouped = grouped.where(column.in_(keys))
        fails_query = fails_query.where(column.in_(keys))
    with store.session() as s:
        fails = {key: int(n) for key, n in s.execute(fails_query)}
        rows = [_row(str(key), tuple(values), fails.get(key, 0)) for key, *values in s.execute(grouped) if key]
        overall_values = tuple(s.execute(evaluated(principal, part, *_aggregates())).one())
        overall_fails = int(s.scalar(_failing(principal, part, code, dimension)) or 0)
    overall = _row("overall", overall_values, overall_fails)

    def sort_key(row: GroupRow) -> tuple[bool, float, str]:
        value = getattr(row, metric)
        if value is None:
            return (True, 0.0, row.key)
        return (False, float(value) if metric in LOWER_IS_WORSE else -float(value), row.key)

    rows.sort(key=sort_key)
    return Comparison(
        level=level,
        metric=metric,
        rows=rows,
        overall=overall,
        code=code,
        dimension=dimension,
        scenario=part.scenario if part else None,
    )


def rank_rules(
    store: Store, principal: Principal, catalog: RuleCatalog, *, part: Slice | None = None, limit: int = 10
) -> list[RuleRate]:
    """The rules failed most often in scope (and slice), with fail rate and n."""
    return [r for r in rule_rates(store, principal, part, catalog) if r.fails][:limit]
