"""Quotes behind the numbers: failing findings of calls in scope, with the turn they point at."""

from __future__ import annotations

from typing import Any

from core.access import Principal
from core.models import Verdict
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from tools.insight.catalog import RuleCatalog
from tools.insight.models import EvidenceQuote, Slice
from tools.insight.scope import evaluated


def _quotes(evidence: Any, payload: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    """The finding row's evidence; the evaluation payload's copy when the row holds none."""
    if isinstance(evidence, list) and evidence:
        return [e for e in evidence if isinstance(e, dict)]
    for finding in payload.get("findings", []):
        if finding.get("rule_id") == rule_id:
            return [e for e in finding.get("evidence", []) if isinstance(e, dict)]
    return []


def failure_evidence(
    store: Store,
    principal: Principal,
    part: Slice | None,
    rule_ids: list[str],
    catalog: RuleCatalog,
    *,
    limit: int = 5,
) -> list[EvidenceQuote]:
    """Up to `limit` quotes of failures of these rules in scope and slice, in the order of `rule_ids`, one per
    call where possible."""
    if not rule_ids:
        return []
    query = (
        evaluated(
            principal,
            part,
            ConversationRow.external_id,
            ConversationRow.agent_id,
            FindingRow.rule_id,
            FindingRow.code,
            FindingRow.evidence,
            EvaluationRow.payload,
        )
        .join(FindingRow, FindingRow.evaluation_id == EvaluationRow.id)
        .where(FindingRow.verdict == Verdict.FAIL.value, FindingRow.rule_id.in_(rule_ids))
        .order_by(ConversationRow.external_id)
    )
    with store.session() as s:
        rows = list(s.execute(query))
    by_rule: dict[str, list[EvidenceQuote]] = {rule_id: [] for rule_id in rule_ids}
    for conversation_id, agent_id, rule_id, code, evidence, payload in rows:
        for quote in _quotes(evidence, payload, rule_id)[:1]:
            by_rule[rule_id].append(
                EvidenceQuote(
                    conversation_id=conversation_id,
                    turn=int(quote.get("turn", 0)),
                    quote=str(quote.get("quote", "")),
                    role=quote.get("role"),
                    why=f"{code} {catalog.name(rule_id) or rule_id}",
                    agent_id=agent_id,
                )
            )
    # Round-robin over rules, preferring calls not quoted yet, so one rule does not fill the list.
    chosen: list[EvidenceQuote] = []
    seen: set[str] = set()
    for prefer_new in (True, False):
        for depth in range(max((len(v) for v in by_rule.values()), default=0)):
            for rule_id in rule_ids:
                quotes = by_rule[rule_id]
                if depth < len(quotes) and len(chosen) < limit:
                    candidate = quotes[depth]
                    if candidate in chosen or (prefer_new and candidate.conversation_id in seen):
                        continue
                    chosen.append(candidate)
                    seen.add(candidate.conversation_id)
    return chosen
