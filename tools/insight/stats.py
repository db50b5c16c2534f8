"""Scoped aggregates in SQL: dimension means, outcome rates, per-rule fail rates, weekly trend."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, distinct, func

from core.access import Principal
from core.models import Verdict
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from tools.insight.catalog import RuleCatalog
from tools.insight.models import DimensionScores, OutcomeRates, RuleRate, Slice, WeekPoint
from tools.insight.scope import evaluated, mean, rate, week_of


def converted_sum() -> Any:
    """SUM of converted calls (portable boolean test)."""
    return func.sum(case((ConversationRow.converted.is_(True), 1), else_=0))


def dimension_scores(store: Store, principal: Principal, part: Slice | None) -> DimensionScores:
    """Mean total and dimension scores of the calls in scope and slice."""
    query = evaluated(
        principal,
        part,
        func.count(EvaluationRow.id),
        func.avg(EvaluationRow.total),
        func.avg(EvaluationRow.compliance),
        func.avg(EvaluationRow.attitude),
        func.avg(EvaluationRow.competence),
        func.avg(EvaluationRow.experience),
    )
    with store.session() as s:
        n, total, compliance, attitude, competence, experience = s.execute(query).one()
    return DimensionScores(
        n=int(n),
        total=mean(total),
        compliance=mean(compliance),
        attitude=mean(attitude),
        competence=mean(competence),
        experience=mean(experience),
    )


def outcome_rates(store: Store, principal: Principal, part: Slice | None) -> OutcomeRates:
    """Conversion rate over calls with a known outcome, mean CSAT over rated calls."""
    query = evaluated(
        principal,
        part,
        func.count(ConversationRow.converted),
        converted_sum(),
        func.count(ConversationRow.csat),
        func.avg(ConversationRow.csat),
    )
    with store.session() as s:
        conversion_n, converted, csat_n, csat = s.execute(query).one()
    return OutcomeRates(
        conversion=rate(int(converted or 0), int(conversion_n)),
        conversion_n=int(conversion_n),
        csat=None if csat is None else round(float(csat), 2),
        csat_n=int(csat_n),
    )


def rule_rates(store: Store, principal: Principal, part: Slice | None, catalog: RuleCatalog) -> list[RuleRate]:
    """Per rule: calls failing it over calls it applies to (by scenario), most failures first."""
    per_scenario = evaluated(principal, part, ConversationRow.scenario, func.count(EvaluationRow.id)).group_by(
        ConversationRow.scenario
    )
    fails_query = (
        evaluated(
            principal,
            part,
            FindingRow.rule_id,
            FindingRow.code,
            ConversationRow.scenario,
            func.count(distinct(FindingRow.evaluation_id)),
        )
        .join(FindingRow, FindingRow.evaluation_id == EvaluationRow.id)
        .where(FindingRow.verdict == Verdict.FAIL.value)
        .group_by(FindingRow.rule_id, FindingRow.code, ConversationRow.scenario)
    )
    with store.session() as s:
        calls = {scenario: int(n) for scenario, n in s.execute(per_scenario)}
        fail_rows = list(s.execute(fails_query))
    fails: dict[str, int] = defaultdict(int)
    outside: dict[str, int] = defaultdict(int)  # failures on calls the rule was triggered into by content
    codes: dict[str, str] = {}
    for rule_id, code, scenario, n in fail_rows:
        fails[rule_id] += int(n)
        codes[rule_id] = code
        if not catalog.applies(rule_id, scenario):
            outside[rule_id] += int(n)
    rates = []
    for rule_id in set(fails) | set(catalog.rules):
        applicable = sum(n for scenario, n in calls.items() if catalog.applies(rule_id, scenario)) + outside[rule_id]
        if applicable == 0:
            continue
        info = catalog.rules.get(rule_id)
        rates.append(
            RuleRate(
                rule_id=rule_id,
                code=codes.get(rule_id) or (info.code if info else "?"),
                rule_name=catalog.name(rule_id),
                fails=fails[rule_id],
                n=applicable,
                rate=rate(fails[rule_id], applicable),
            )
        )
    return sorted(rates, key=lambda r: (-r.fails, -(r.rate or 0), r.rule_id))


def weekly_trend(store: Store, principal: Principal, part: Slice | None) -> list[WeekPoint]:
    """Calls, mean total and conversion per week (call start, else evaluation time), grouped in SQL."""
    week = week_of(store.engine, func.coalesce(ConversationRow.started_at, EvaluationRow.created_at)).label("week")
    query = (
        evaluated(
            principal,
            part,
            week,
            func.count(EvaluationRow.id),
            func.avg(EvaluationRow.total),
            func.count(ConversationRow.converted),
            converted_sum(),
        )
        .group_by(week)
        .order_by(week)
    )
    with store.session() as s:
        return [
            WeekPoint(
                week=str(label),
                n=int(n),
                total=mean(total),
                conversion=rate(int(converted or 0), int(conversion_n)),
                conversion_n=int(conversion_n),
            )
            for label, n, total, conversion_n, converted in s.execute(query)
        ]
