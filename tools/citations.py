"""Regulation clauses for compliance findings, resolved once per scorecard rather than once per finding.

A rule's own clause ids are looked up once; a compliance rule without clause ids gets the clauses that
retrieval finds for its name and description, once per scenario. The table is plain data: it can be
shared by worker processes that never open the vector store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.models import Citation, Dimension
from core.scorecard import Scorecard

if TYPE_CHECKING:  # the vector store client is imported only where a table is built
    from tools.regulations import RegulationIndex


@dataclass(frozen=True)
class CitationTable:
    """rule id → its clauses; (rule id, scenario) → retrieved clauses for rules that name none."""

    scorecard_version: str
    by_rule: dict[str, list[Citation]] = field(default_factory=dict)
    retrieved: dict[tuple[str, str | None], list[Citation]] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write the table as JSON (a cache: the same pack and corpus always resolve to the same clauses)."""
        document = {
            "scorecard_version": self.scorecard_version,
            "by_rule": {rule: [c.model_dump(mode="json") for c in cs] for rule, cs in self.by_rule.items()},
            "retrieved": [
                {"rule": rule, "scenario": scenario, "citations": [c.model_dump(mode="json") for c in cs]}
                for (rule, scenario), cs in self.retrieved.items()
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> CitationTable:
        """A table written by `save`."""
        document = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            scorecard_version=document["scorecard_version"],
            by_rule={rule: [Citation.model_validate(c) for c in cs] for rule, cs in document["by_rule"].items()},
            retrieved={
                (entry["rule"], entry["scenario"]): [Citation.model_validate(c) for c in entry["citations"]]
                for entry in document["retrieved"]
            },
        )

    def for_rule(self, rule_id: str, scenario: str | None) -> list[Citation]:
        """The clauses a failure of this rule breaks (empty when none are known)."""
        own = self.by_rule.get(rule_id)
        if own:
            return own
        return self.retrieved.get((rule_id, scenario)) or self.retrieved.get((rule_id, None), [])


def build_citation_table(index: RegulationIndex, scorecard: Scorecard, *, k: int = 2) -> CitationTable:
    """Resolve every compliance rule's clauses once (a few dozen lookups for a whole pack)."""
    from tools.regulation_query import RegulationFilter

    table = CitationTable(scorecard_version=scorecard.version)
    for rule in scorecard.rules:
        if rule.effective_dimension is not Dimension.COMPLIANCE:
            continue
        found = index.clauses(list(rule.regulation_refs)) if rule.regulation_refs else []
        if found:
            table.by_rule[rule.id] = found
            continue
        query = f"{rule.name} {rule.description}".strip()
        for scenario in [None, *rule.scenarios]:
            table.retrieved[(rule.id, scenario)] = index.search(
                query, k=k, filters=RegulationFilter(scenario=scenario) if scenario else None
            )
    return table
