"""Nodes of the QM flow: ingest → redact → run_rules → score → persist → open_tickets.

Each node is a plain function (state, runtime) -> partial update. Side effects (storing, tickets)
sit in their own nodes and are idempotent, so a resumed or repeated run changes nothing twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Literal

from langgraph.graph import END
from langgraph.runtime import Runtime

from agents.qm.context import QMContext
from agents.qm.state import QMState, current_findings
from core.models import Citation, Dimension, Evaluation, Verdict
from tools.redact import redact_conversation
from tools.regulations import RegulationFilter
from tools.scoring import score as score_findings
from tools.semantic import JudgeRequest
from tools.tickets import draft_ticket

_EVALUATION_NAMESPACE = uuid.UUID("0b7d3c4e-52a9-4f0e-8f4e-5b1e9a6c2d10")

Node = Callable[[QMState, Runtime[QMContext]], dict[str, Any]]


def _timed(name: str) -> Callable[[Node], Node]:
    def wrap(node: Node) -> Node:
        @wraps(node)
        def run(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
            started = time.perf_counter()
            update = node(state, runtime)
            update.setdefault("timings_ms", {})[name] = round((time.perf_counter() - started) * 1000, 3)
            return update

        return run

    return wrap


@_timed("ingest")
def ingest(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Fingerprint the conversation and reuse a stored evaluation of the same content and rule pack."""
    conversation = state["conversation"]
    content_hash = conversation.content_hash()
    store, card = runtime.context.store, runtime.context.scorecard
    if store is not None:
        existing = store.find_evaluation(
            tenant=conversation.tenant,
            conversation_id=conversation.id,
            content_hash=content_hash,
            rule_pack=card.name,
            rule_pack_version=card.version,
        )
        if existing is not None:
            ticket = store.ticket_for_evaluation(existing.id)
            return {
                "content_hash": content_hash,
                "evaluation": existing,
                "tickets": [ticket] if ticket else [],
                "reused": True,
            }
    return {"content_hash": content_hash, "reused": False}


def route_after_ingest(state: QMState) -> Literal["redact", "__end__"]:
    """Already evaluated under this rule-pack version: nothing more to do."""
    return END if state.get("reused") else "redact"


@_timed("redact")
def redact(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Replace PII before anything is stored or sent to a model; the vault travels only to `persist`."""
    redacted, vault = redact_conversation(state["conversation"])
    found = [(token, kind.name, value) for token, (kind, value) in vault.entries.items()]
    return {"conversation": redacted, "pii": [*state.get("pii", []), *found]}


@_timed("rules")
def run_rules(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Tier 0: the scorecard's deterministic checks; names the findings the LLM tier should look at."""
    findings = runtime.context.engine.evaluate(state["conversation"])
    threshold = runtime.context.scorecard.thresholds.review_below_confidence
    candidates = [
        f.rule_id
        for f in findings
        if f.verdict is Verdict.NOT_EVALUATED or (f.verdict is Verdict.FAIL and f.confidence < threshold)
    ]
    return {"findings": findings, "llm_candidates": candidates}


def route_after_rules(state: QMState) -> Literal["judge_semantics", "cite"]:
    """Only conversations with semantic rules that apply, or uncertain failures, reach the LLM tier."""
    return "judge_semantics" if state.get("llm_candidates") else "cite"


@_timed("llm")
def judge_semantics(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Tier 2: the language model judges semantic rules and gives a second opinion on uncertain failures."""
    judge, card = runtime.context.judge, runtime.context.scorecard
    if judge is None:
        return {"llm_findings": {}, "llm_usage": None}
    by_id = {f.rule_id: f for f in state["findings"]}
    requests = [
        JudgeRequest(
            rule=card.rule(rule_id),
            finding=by_id[rule_id],
            purpose="semantic" if by_id[rule_id].verdict is Verdict.NOT_EVALUATED else "second_opinion",
        )
        for rule_id in state["llm_candidates"]
    ]
    findings, usage = judge.judge(state["conversation"], requests)
    return {"llm_findings": findings, "llm_usage": usage}


@_timed("cite")
def cite(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Clauses each compliance failure breaks: the rule's own references, else retrieval by its evidence."""
    index = runtime.context.regulations
    if index is None:
        return {"citations": {}}
    scenario = state["conversation"].scenario
    citations: dict[str, list[Citation]] = {}
    for finding in current_findings(state):
        if finding.verdict is not Verdict.FAIL or finding.dimension is not Dimension.COMPLIANCE:
            continue
        found = index.clauses(finding.regulation_refs)
        if not found:
            query = " ".join([finding.rule_name, *(e.quote for e in finding.evidence)])
            found = index.search(query, k=2, filters=RegulationFilter(scenario=scenario))
        citations[finding.rule_id] = found
    return {"citations": citations}


@_timed("score")
def score(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Dimension scores, total, risk level and review flag, as a reproducible Evaluation."""
    conversation, card = state["conversation"], runtime.context.scorecard
    citations = state.get("citations", {})
    findings = [
        f.model_copy(update={"citations": citations[f.rule_id]}) if f.rule_id in citations else f
        for f in current_findings(state)
    ]
    result = score_findings(findings, card)
    key = f"{conversation.tenant}|{conversation.id}|{state['content_hash']}|{card.name}|{card.version}"
    unevaluated = [f.rule_id for f in result.findings if f.verdict is Verdict.NOT_EVALUATED]
    notes = list(conversation.notes)
    usage = state.get("llm_usage")
    if unevaluated and runtime.context.judge is None:
        notes.append(f"{len(unevaluated)} 条语义规则未评估（未配置大模型）：{', '.join(unevaluated)}")
    elif unevaluated:
        notes.append(f"{len(unevaluated)} 条规则大模型未能给出可信结论，需人工复核：{', '.join(unevaluated)}")
    if runtime.context.regulations is None and any(
        f.verdict is Verdict.FAIL and f.dimension is Dimension.COMPLIANCE for f in findings
    ):
        notes.append("法规库未启用：合规违规只列条款编号，未附条文")
    evaluation = Evaluation(
        id=str(uuid.uuid5(_EVALUATION_NAMESPACE, key)),
        conversation_id=conversation.id,
        tenant=conversation.tenant,
        agent_id=conversation.agent_id,
        scores=result.scores,
        total=result.total,
        auto_failed=result.auto_failed,
        risk_level=result.risk_level,
        needs_review=result.needs_review,
        findings=result.findings,
        rule_pack=card.name,
        rule_pack_version=card.version,
        content_hash=state["content_hash"],
        created_at=runtime.context.clock(),
        timings_ms=dict(state.get("timings_ms", {})),
        llm=usage,
        notes=notes,
    )
    return {"evaluation": evaluation}


@_timed("persist")
def persist(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """Store conversation (redacted), PII vault and evaluation; drop the vault from the state."""
    store = runtime.context.store
    evaluation = state["evaluation"]
    if store is not None:
        evaluation = store.save_evaluation(state["conversation"], evaluation, state.get("pii", []))
    return {"evaluation": evaluation, "pii": []}


@_timed("tickets")
def open_tickets(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """A remediation ticket when the evaluation crosses the scorecard's thresholds (once per evaluation)."""
    ctx = runtime.context
    ticket = draft_ticket(state["evaluation"], state["conversation"], ctx.ticket_policy, ctx.clock())
    if ticket is not None and ctx.store is not None:
        ticket = ctx.store.save_ticket(ticket)
    return {"tickets": [ticket] if ticket else []}
