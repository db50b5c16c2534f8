"""What the analyses need to know about rules: name, code and which scenarios each applies to."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.scorecard import Scorecard


@dataclass(frozen=True)
class RuleInfo:
    rule_id: str
    code: str
    name: str
    scenarios: frozenset[str]  # empty: every scenario


@dataclass(frozen=True)
class RuleCatalog:
    """Rule id → name, code and scenarios, from the scorecard the calls were evaluated with."""

    rules: dict[str, RuleInfo] = field(default_factory=dict)

    @classmethod
    def from_scorecard(cls, scorecard: Scorecard) -> RuleCatalog:
        return cls({r.id: RuleInfo(r.id, r.code, r.name, frozenset(r.scenarios)) for r in scorecard.rules})

    def name(self, rule_id: str) -> str | None:
        info = self.rules.get(rule_id)
        return info.name if info else None

    def applies(self, rule_id: str, scenario: str | None) -> bool:
        """Whether a call of this scenario is judged by the rule (unknown rules: every call)."""
        info = self.rules.get(rule_id)
        if info is None or not info.scenarios:
            return True
        return scenario in info.scenarios
