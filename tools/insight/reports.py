"""Reports for people: agent, team and customer-demand reports as data (JSON) built from the same analyses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.access import Principal
from core.store import Store, utc_now
from tools.insight.calls import complaint_risk
from tools.insight.catalog import RuleCatalog
from tools.insight.compare import compare_groups
from tools.insight.encoders import TextEncoder
from tools.insight.errors import SubjectNotFound
from tools.insight.models import AgentProfile, Comparison, CustomerNeeds, RiskCall, RuleRate, Slice, WeekPoint
from tools.insight.needs import customer_needs
from tools.insight.profile import agent_profile
from tools.insight.stats import rule_rates, weekly_trend


class AgentReport(BaseModel):
    kind: str = "agent"
    title: str
    generated_at: datetime = Field(default_factory=utc_now)
    profile: AgentProfile


class TeamReport(BaseModel):
    kind: str = "team"
    title: str
    generated_at: datetime = Field(default_factory=utc_now)
    team: str
    agents: Comparison
    rule_rates: list[RuleRate]
    scope_rule_rates: list[RuleRate]
    trend: list[WeekPoint]


class DemandReport(BaseModel):
    kind: str = "demand"
    title: str
    generated_at: datetime = Field(default_factory=utc_now)
    scenario: str | None
    needs: CustomerNeeds
    complaint_risk: list[RiskCall]


def agent_report(store: Store, principal: Principal, agent_id: str, catalog: RuleCatalog) -> AgentReport:
    """One agent against the rest of their team."""
    profile = agent_profile(store, principal, agent_id, catalog)
    return AgentReport(title=f"坐席 {agent_id} 质检报告 · Agent report", profile=profile)


def team_report(store: Store, principal: Principal, team: str, catalog: RuleCatalog) -> TeamReport:
    """A team's agents side by side, its fail rates against the caller's whole scope, and its weekly trend."""
    part = Slice(team=team)
    agents = compare_groups(store, principal, "agent", part=part, metric="total")
    if not agents.rows:
        raise SubjectNotFound(f"no evaluated calls of team {team} within your scope")
    rates = [r for r in rule_rates(store, principal, part, catalog) if r.fails]
    scope_rates = {r.rule_id: r for r in rule_rates(store, principal, None, catalog)}
    return TeamReport(
        title=f"团队 {team} 质检报告 · Team report",
        team=team,
        agents=agents,
        rule_rates=rates[:15],
        scope_rule_rates=[scope_rates[r.rule_id] for r in rates[:15] if r.rule_id in scope_rates],
        trend=weekly_trend(store, principal, part),
    )


def demand_report(
    store: Store, principal: Principal, encoder: TextEncoder, *, scenario: str | None = None
) -> DemandReport:
    """What customers ask for (topics of stated needs) and which calls risk becoming complaints."""
    part = Slice(scenario=scenario) if scenario else None
    return DemandReport(
        title="客户需求报告 · Customer demand report",
        scenario=scenario,
        needs=customer_needs(store, principal, encoder, part=part),
        complaint_risk=complaint_risk(store, principal, part=part, limit=15),
    )
