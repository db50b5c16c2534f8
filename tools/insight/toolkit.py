"""The insight analyses as LangChain tools. The caller's scope (`principal`) is injected by the runner
(`InjectedToolArg`): it is not in any schema a model sees, so a model can never widen it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool

from core.access import Principal
from core.store import Store
from tools.insight.calls import complaint_risk, search_conversations
from tools.insight.catalog import RuleCatalog
from tools.insight.compare import Metric, compare_groups, rank_rules
from tools.insight.drivers import outcome_drivers
from tools.insight.encoders import TextEncoder
from tools.insight.golden import golden_scripts
from tools.insight.models import GroupLevel, Slice
from tools.insight.needs import customer_needs
from tools.insight.profile import agent_profile
from tools.insight.stats import weekly_trend

Scope = Annotated[Principal, InjectedToolArg]


@dataclass(frozen=True)
class InsightToolkit:
    """The store, rule catalog and text encoder the analyses run on; `tools()` exposes them to a model and
    `run()` calls one by name with the caller's principal (the deterministic planner uses the same path)."""

    store: Store
    catalog: RuleCatalog
    encoder: TextEncoder

    def agent_profile(self, agent_id: str, principal: Scope) -> dict[str, Any]:
        """Diagnose one agent (e.g. "A017"): dimension scores, conversion and CSAT vs the rest of their team,
        fail rate per rule vs team with n, weekly trend, likely causes and evidence quotes from their calls."""
        return agent_profile(self.store, principal, agent_id, self.catalog).model_dump(mode="json")

    def compare(
        self,
        level: GroupLevel,
        principal: Scope,
        metric: Metric = "total",
        code: str | None = None,
        dimension: str | None = None,
        scenario: str | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, Any]:
        """Compare or rank agents, teams, branches, sub-branches or scenarios by a metric (total, a dimension,
        conversion, csat, or fail_rate of a code such as "C03" or of a dimension), worst first, each with n."""
        part = Slice(scenario=scenario) if scenario else None
        result = compare_groups(
            self.store, principal, level, part=part, metric=metric, code=code, dimension=dimension, keys=keys
        )
        return result.model_dump(mode="json")

    def rank_rules(
        self,
        principal: Scope,
        scenario: str | None = None,
        agent_id: str | None = None,
        team: str | None = None,
        branch: str | None = None,
        sub_branch: str | None = None,
    ) -> dict[str, Any]:
        """The rules failed most often (fails, fail rate, n), optionally for one scenario, agent, team, branch
        or sub-branch."""
        part = Slice(scenario=scenario, agent_id=agent_id, team=team, branch=branch, sub_branch=sub_branch)
        rules = rank_rules(self.store, principal, self.catalog, part=part)
        return {"slice": part.label(), "rules": [r.model_dump(mode="json") for r in rules]}

    def drivers(
        self, principal: Scope, outcome: Literal["conversion", "csat"] = "conversion", scenario: str | None = None
    ) -> dict[str, Any]:
        """Which failure codes go with lower (or higher) conversion or CSAT: effect size, n on each side, and
        whether n is too small to conclude."""
        part = Slice(scenario=scenario) if scenario else None
        return outcome_drivers(self.store, principal, outcome, part=part).model_dump(mode="json")

    def customer_needs(self, principal: Scope, scenario: str | None = None) -> dict[str, Any]:
        """What customers talk about: topics of customer turns (clustered), labelled by distinctive terms, with
        counts per scenario and example quotes."""
        part = Slice(scenario=scenario) if scenario else None
        return customer_needs(self.store, principal, self.encoder, part=part).model_dump(mode="json")

    def golden_scripts(self, concern: str, principal: Scope, scenario: str | None = None) -> dict[str, Any]:
        """How agents answer a customer concern (e.g. "利率", "风险", "流动性") in converted calls vs
        unconverted ones, with example replies and the terms that set them apart."""
        part = Slice(scenario=scenario) if scenario else None
        return golden_scripts(self.store, principal, concern, part=part).model_dump(mode="json")

    def complaint_risk(self, principal: Scope, scenario: str | None = None) -> dict[str, Any]:
        """Calls likely to turn into complaints (escalation threats, dissatisfied endings, low CSAT)."""
        part = Slice(scenario=scenario) if scenario else None
        calls = complaint_risk(self.store, principal, part=part)
        return {"calls": [c.model_dump(mode="json") for c in calls]}

    def search(
        self, text: str, principal: Scope, agent_id: str | None = None, scenario: str | None = None
    ) -> dict[str, Any]:
        """Find turns containing a phrase in the calls in scope, optionally of one agent or scenario."""
        part = Slice(agent_id=agent_id, scenario=scenario)
        hits = search_conversations(self.store, principal, text, part=part)
        return {"hits": [h.model_dump(mode="json") for h in hits]}

    def trend(
        self,
        principal: Scope,
        agent_id: str | None = None,
        team: str | None = None,
        branch: str | None = None,
        sub_branch: str | None = None,
        scenario: str | None = None,
    ) -> dict[str, Any]:
        """Calls, mean total score and conversion per week for the scope or one agent, team, branch, sub-branch
        or scenario."""
        part = Slice(agent_id=agent_id, team=team, branch=branch, sub_branch=sub_branch, scenario=scenario)
        return {
            "slice": part.label(),
            "weeks": [w.model_dump(mode="json") for w in weekly_trend(self.store, principal, part)],
        }

    def _functions(self) -> dict[str, Callable[..., dict[str, Any]]]:
        return {
            "agent_profile": self.agent_profile,
            "compare": self.compare,
            "rank_rules": self.rank_rules,
            "drivers": self.drivers,
            "customer_needs": self.customer_needs,
            "golden_scripts": self.golden_scripts,
            "complaint_risk": self.complaint_risk,
            "search": self.search,
            "trend": self.trend,
        }

    def tools(self) -> list[BaseTool]:
        """Every analysis as a StructuredTool; `principal` is injected, not part of the model-facing schema."""
        return [
            StructuredTool.from_function(function, name=name, description=(function.__doc__ or name).strip())
            for name, function in self._functions().items()
        ]

    def run(self, name: str, arguments: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """Call one tool by name with the caller's principal injected (a model-supplied `principal` is
        overwritten)."""
        tools = {tool.name: tool for tool in self.tools()}
        if name not in tools:
            raise KeyError(f"unknown insight tool {name!r}; known: {', '.join(sorted(tools))}")
        result: dict[str, Any] = tools[name].invoke({**arguments, "principal": principal})
        return result
