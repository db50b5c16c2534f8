"""Call lists: complaint-risk calls and conversation search, inside the caller's scope."""

from __future__ import annotations

from sqlalchemy import or_

from core.access import Principal
from core.models import Conversation, Verdict
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from tools.insight.evidence import _quotes
from tools.insight.models import RiskCall, SearchHit, Slice
from tools.insight.scope import evaluated

RISK_CODES = ("X01", "X02", "S02", "C09", "C12")
_RISK_ORDER = {code: i for i, code in enumerate(RISK_CODES)}


def complaint_risk(store: Store, principal: Principal, *, part: Slice | None = None, limit: int = 20) -> list[RiskCall]:
    """Calls likely to become complaints: an escalation threat (X01), a dissatisfied ending (X02), an upset
    customer not acknowledged (S02), collection misconduct (C09), an over-promise (C12), or CSAT ≤ 2; most
    serious first."""
    query = (
        evaluated(
            principal,
            part,
            ConversationRow.external_id,
            ConversationRow.agent_id,
            ConversationRow.branch,
            ConversationRow.csat,
            EvaluationRow.risk_level,
            EvaluationRow.payload,
            FindingRow.rule_id,
            FindingRow.code,
            FindingRow.evidence,
        )
        .outerjoin(
            FindingRow,
            (FindingRow.evaluation_id == EvaluationRow.id)
            & (FindingRow.verdict == Verdict.FAIL.value)
            & FindingRow.code.in_(RISK_CODES),
        )
        .where(or_(FindingRow.id.is_not(None), ConversationRow.csat <= 2))
    )
    calls: dict[str, RiskCall] = {}
    quotes: dict[tuple[str, str], tuple[str, int]] = {}
    with store.session() as s:
        for conversation_id, agent_id, branch, csat, risk, payload, rule_id, code, evidence in s.execute(query):
            call = calls.setdefault(
                conversation_id,
                RiskCall(
                    conversation_id=conversation_id,
                    agent_id=agent_id,
                    branch=branch,
                    codes=[],
                    csat=csat,
                    risk_level=risk,
                    quote=None,
                    turn=None,
                ),
            )
            if code is None:
                continue
            if code not in call.codes:
                call.codes.append(code)
            found = _quotes(evidence, payload, rule_id)
            if found and (conversation_id, code) not in quotes:
                quotes[(conversation_id, code)] = (str(found[0].get("quote", "")), int(found[0].get("turn", 0)))
    for call in calls.values():
        call.codes.sort(key=_RISK_ORDER.__getitem__)
        for code in call.codes:
            if (call.conversation_id, code) in quotes:
                call.quote, call.turn = quotes[(call.conversation_id, code)]
                break

    def severity(call: RiskCall) -> tuple[int, int, str]:
        first = _RISK_ORDER[call.codes[0]] if call.codes else len(RISK_CODES)
        return (first, call.csat if call.csat is not None else 6, call.conversation_id)

    return sorted(calls.values(), key=severity)[:limit]


def search_conversations(
    store: Store,
    principal: Principal,
    text: str,
    *,
    part: Slice | None = None,
    role: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Turns containing `text` in evaluated calls in scope. The scope and slice are applied in SQL; the text
    is matched on the decoded transcript (JSON storage escapes Chinese, so SQL LIKE would miss it)."""
    query = evaluated(
        principal,
        part,
        ConversationRow.external_id,
        ConversationRow.agent_id,
        ConversationRow.scenario,
        ConversationRow.payload,
    ).order_by(ConversationRow.external_id)
    needle = text.strip().lower()
    hits: list[SearchHit] = []
    if not needle:
        return hits
    with store.session() as s:
        for conversation_id, agent_id, scenario, payload in s.execute(query):
            for t in Conversation.model_validate(payload).turns:
                if needle in t.text.lower() and (role is None or t.role.value == role):
                    hits.append(
                        SearchHit(
                            conversation_id=conversation_id,
                            agent_id=agent_id,
                            scenario=scenario,
                            turn=t.index,
                            role=t.role.value,
                            quote=t.text,
                        )
                    )
                    if len(hits) >= limit:
                        return hits
    return hits
