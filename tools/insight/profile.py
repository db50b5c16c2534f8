"""Agent profile: dimension scores, fail rate per rule, conversion and CSAT against team (others), branch and
the caller's visible scope, weekly trend, likely causes and the calls that show them."""

from __future__ import annotations

from sqlalchemy import func

from core.access import Principal
from core.store import ConversationRow, EvaluationRow, Store
from tools.insight.catalog import RuleCatalog
from tools.insight.errors import SubjectNotFound
from tools.insight.evidence import failure_evidence
from tools.insight.models import (
    MIN_N,
    AgentProfile,
    Cause,
    DimensionScores,
    Fact,
    OutcomeRates,
    RuleRate,
    Slice,
)
from tools.insight.scope import evaluated
from tools.insight.stats import dimension_scores, outcome_rates, rule_rates, weekly_trend

DIMENSIONS = ("total", "compliance", "attitude", "competence", "experience")


def agent_home(store: Store, principal: Principal, agent_id: str) -> tuple[str | None, str | None, int]:
    """The team and branch most of the agent's calls in scope belong to, and how many calls there are."""
    query = (
        evaluated(
            principal,
            Slice(agent_id=agent_id),
            ConversationRow.team,
            ConversationRow.branch,
            func.count(EvaluationRow.id),
        )
        .group_by(ConversationRow.team, ConversationRow.branch)
        .order_by(func.count(EvaluationRow.id).desc())
    )
    with store.session() as s:
        rows = list(s.execute(query))
    if not rows:
        raise SubjectNotFound(f"no evaluated calls of agent {agent_id} within your scope")
    team, branch, _ = rows[0]
    return team, branch, sum(int(r[2]) for r in rows)


def likely_causes(mine: list[RuleRate], baseline: list[RuleRate], *, limit: int = 5) -> list[Cause]:
    """Rules the subject fails more often than the baseline, largest gap first (at least 2 failures)."""
    base = {r.rule_id: r for r in baseline}
    causes = []
    for r in mine:
        other = base.get(r.rule_id)
        base_rate = other.rate if other else 0.0
        if r.fails < 2 or r.rate is None or r.rate <= (base_rate or 0.0):
            continue
        causes.append(
            Cause(
                code=r.code,
                rule_id=r.rule_id,
                rule_name=r.rule_name,
                rate=r.rate,
                baseline=base_rate,
                n=r.n,
                fails=r.fails,
                baseline_n=other.n if other else 0,
                small_n=r.n < MIN_N or (other.n if other else 0) < MIN_N,
            )
        )
    causes.sort(key=lambda c: (-((c.rate or 0) - (c.baseline or 0)), -c.fails, c.rule_id))
    return causes[:limit]


def _facts(
    subject: str,
    scores: DimensionScores,
    outcomes: OutcomeRates,
    base_label: str,
    base_scores: DimensionScores | None,
    base_outcomes: OutcomeRates | None,
) -> list[Fact]:
    facts = [
        Fact(
            metric=name,
            scope=subject,
            value=getattr(scores, name),
            baseline=getattr(base_scores, name) if base_scores else None,
            baseline_scope=base_label if base_scores else None,
            n=scores.n,
            baseline_n=base_scores.n if base_scores else None,
            small_n=scores.n < MIN_N,
        )
        for name in DIMENSIONS
    ]
    facts.append(
        Fact(
            metric="conversion",
            scope=subject,
            value=outcomes.conversion,
            baseline=base_outcomes.conversion if base_outcomes else None,
            baseline_scope=base_label if base_outcomes else None,
            n=outcomes.conversion_n,
            baseline_n=base_outcomes.conversion_n if base_outcomes else None,
            small_n=outcomes.conversion_n < MIN_N,
        )
    )
    facts.append(
        Fact(
            metric="csat",
            scope=subject,
            value=outcomes.csat,
            baseline=base_outcomes.csat if base_outcomes else None,
            baseline_scope=base_label if base_outcomes else None,
            n=outcomes.csat_n,
            baseline_n=base_outcomes.csat_n if base_outcomes else None,
            small_n=outcomes.csat_n < MIN_N,
        )
    )
    return facts


def agent_profile(store: Store, principal: Principal, agent_id: str, catalog: RuleCatalog) -> AgentProfile:
    """Everything about one agent, each number with its baseline (team without the agent) and n."""
    team, branch, _ = agent_home(store, principal, agent_id)
    mine = Slice(agent_id=agent_id)
    team_others = Slice(team=team, branch=branch, exclude_agent=agent_id) if team else None
    scores = dimension_scores(store, principal, mine)
    team_scores = dimension_scores(store, principal, team_others) if team_others else None
    if team_scores is not None and team_scores.n == 0:
        team_scores = None
    outcomes = outcome_rates(store, principal, mine)
    team_outcomes = outcome_rates(store, principal, team_others) if team_scores and team_others else None
    my_rates = rule_rates(store, principal, mine, catalog)
    team_rates = rule_rates(store, principal, team_others, catalog) if team_scores and team_others else []
    if not team_rates:  # no teammates in scope: compare with everything else the caller sees
        team_rates = rule_rates(store, principal, Slice(exclude_agent=agent_id), catalog)
    causes = likely_causes(my_rates, team_rates)
    base_label = f"team:{team} (others)" if team_scores else "scope"
    return AgentProfile(
        agent_id=agent_id,
        team=team,
        branch=branch,
        scores=scores,
        team_scores=team_scores,
        branch_scores=dimension_scores(store, principal, Slice(branch=branch)) if branch else None,
        scope_scores=dimension_scores(store, principal, None),
        outcomes=outcomes,
        team_outcomes=team_outcomes,
        rule_rates=[r for r in my_rates if r.fails],
        team_rule_rates=[r for r in team_rates if r.fails],
        causes=causes,
        trend=weekly_trend(store, principal, mine),
        evidence=failure_evidence(store, principal, mine, [c.rule_id for c in causes], catalog),
        facts=_facts(f"agent:{agent_id}", scores, outcomes, base_label, team_scores, team_outcomes),
    )
