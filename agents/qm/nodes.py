"""Nodes of the QM flow: assess → (judge_semantics → conclude) → record.

The deterministic stages are plain functions (state, context) -> partial update; a node runs one or more of them
in order (each sees the previous one's update) and records each stage's time under the stage's name. Stages that
always run back to back share a node: a LangGraph step costs ~0.2 ms of bookkeeping, more than some stages. The
graph's edges sit where the flow waits or has side effects: around the LLM tier (slow, checkpointed) and before
`record`, whose side effects are idempotent. `assess` fingerprints and looks for a stored evaluation, runs tiers 0
and 1, and — when nothing is left for the LLM — cites and scores in the same step. Every stage returns whole
values, so running a node twice changes nothing twice; a conversation already evaluated under this verdict version
skips to `record`, which then only makes sure its ticket exists — so a run interrupted between storing the
evaluation and its ticket completes on the next submission. A batch without LLM work (the CLI's chunks, one
`/evaluate` request) runs the same stages through `assess_each` → `record_each`, one graph step each for the whole
batch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, Protocol, cast

from langgraph.runtime import Runtime

from agents.qm.context import QMContext
from agents.qm.state import QMBatch, QMState, current_findings
from core.models import Citation, Dimension, Evaluation, Verdict
from tools.scoring import score as score_findings
from tools.tickets import draft_ticket

_EVALUATION_NAMESPACE = uuid.UUID("0b7d3c4e-52a9-4f0e-8f4e-5b1e9a6c2d10")


class Node(Protocol):
    """A QM node: (state, runtime) -> partial update."""

    def __call__(self, state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]: ...


Stage = Callable[[QMState, QMContext], dict[str, Any]]
When = Callable[[QMState], bool]


Stages = tuple[tuple[str, Stage, When | None], ...]


def _run_stages(stages: Stages, state: QMState, ctx: QMContext) -> dict[str, Any]:
    """The update of running `stages` in order, each on the state as the previous ones left it (a stage whose
    condition is false on that state is skipped), with each stage's time under its name."""
    update: dict[str, Any] = {}
    timings: dict[str, float] = {}
    current = state
    for name, stage, when in stages:
        if when is not None and not when(current):
            continue
        started = time.perf_counter()
        changes = stage(current, ctx)
        timings[name] = round((time.perf_counter() - started) * 1000, 3)
        update.update(changes)
        if len(stages) > 1:  # the next stage sees this one's update and time (score records the times)
            current = cast(QMState, {**current, **changes, "timings_ms": {**current.get("timings_ms", {}), **timings}})
    update["timings_ms"] = timings
    return update


def _updated(state: QMState, update: dict[str, Any]) -> QMState:
    """The state after a node's update, as LangGraph would merge it (timings by stage)."""
    return cast(QMState, {**state, **update, "timings_ms": {**state.get("timings_ms", {}), **update["timings_ms"]}})


def _node(*stages: tuple[str, Stage, When | None]) -> Node:
    """A node running `stages` (see `_run_stages`)."""

    def run(state: QMState, runtime: Runtime[QMContext]) -> dict[str, Any]:
        return _run_stages(stages, state, runtime.context)

    run.__name__ = run.__qualname__ = "+".join(name for name, _, _ in stages)
    run.__doc__ = "\n".join(f"{name}: {(stage.__doc__ or '').strip()}" for name, stage, _ in stages)
    return run


def _fresh(state: QMState) -> bool:
    """Not evaluated before under this verdict version (otherwise only its ticket is made sure of)."""
    return not state.get("reused")


def _settled(state: QMState) -> bool:
    """Fresh, and nothing left for the LLM tier: the evaluation can be concluded in the same step."""
    return _fresh(state) and not state.get("llm_candidates")


def evaluation_key(tenant: str, conversation_id: str, content_hash: str, pack: str, version: str) -> str:
    """What identifies an evaluation: the conversation's content under one rule-pack version."""
    return f"{tenant}|{conversation_id}|{content_hash}|{pack}|{version}"


def _ingest(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Fingerprint the conversation and reuse a stored evaluation of the same content and rule pack."""
    conversation = state["conversation"]
    content_hash = state.get("content_hash") or conversation.content_hash()
    store, card = ctx.store, ctx.scorecard
    if store is not None:
        existing = store.find_evaluation(
            tenant=conversation.tenant,
            conversation_id=conversation.id,
            content_hash=content_hash,
            rule_pack=card.name,
            verdict_version=ctx.verdict_version,
        )
        if existing is not None:
            return {"content_hash": content_hash, "evaluation": existing, "reused": True}
    return {"content_hash": content_hash, "reused": False}


def _rules(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Tier 0: the scorecard's deterministic checks, one finding per rule."""
    return {"findings": ctx.engine.evaluate(state["conversation"])}


def _small_models(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Tier 1: small models add paraphrased violations and veto rule hits they are sure are not violations;
    then names the findings the LLM tier should look at."""
    findings = state["findings"]
    if ctx.small_models is not None:
        findings = ctx.small_models.apply(state["conversation"], findings, ctx.scorecard)
    threshold = ctx.scorecard.thresholds.review_below_confidence
    candidates = [
        f.rule_id
        for f in findings
        if ctx.judge is not None
        and (f.verdict is Verdict.NOT_EVALUATED or (f.verdict is Verdict.FAIL and f.confidence < threshold))
    ]
    return {"findings": findings, "llm_candidates": candidates}


def route_after_assess(state: QMState) -> Literal["judge_semantics", "record"]:
    """Semantic rules that apply, or uncertain failures, go to the LLM tier (when one is configured: without it
    there are no candidates); everything else was concluded in `assess` and goes to `record`. So does a
    conversation already evaluated under this verdict version, whose ticket `record` makes sure of."""
    return "judge_semantics" if _fresh(state) and state.get("llm_candidates") else "record"


def _llm(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Tier 2: the language model judges semantic rules and gives a second opinion on uncertain failures."""
    judge, card = ctx.judge, ctx.scorecard
    if judge is None:
        return {"llm_findings": {}, "llm_usage": None}
    from tools.semantic import JudgeRequest  # only runs with an LLM configured

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


def _cite(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Clauses each compliance failure breaks, from the scorecard's citation table (resolved once)."""
    table = ctx.citations
    if table is None:
        return {"citations": {}}
    scenario = state["conversation"].scenario
    citations: dict[str, list[Citation]] = {}
    for finding in current_findings(state):
        if finding.verdict is Verdict.FAIL and finding.dimension is Dimension.COMPLIANCE:
            citations[finding.rule_id] = table.for_rule(finding.rule_id, scenario)
    return {"citations": citations}


def _score(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Dimension scores, total, risk level and review flag, as a reproducible Evaluation."""
    conversation = state["conversation"]
    card = ctx.scorecard
    citations = state.get("citations", {})
    findings = [
        f.model_copy(update={"citations": citations[f.rule_id]}) if citations.get(f.rule_id) else f
        for f in current_findings(state)
    ]
    result = score_findings(findings, card)
    unevaluated = [f.rule_id for f in result.findings if f.verdict is Verdict.NOT_EVALUATED]
    notes = list(conversation.notes)
    needs_review = result.needs_review
    if unevaluated and ctx.judge is None:
        notes.append(f"{len(unevaluated)} 条语义规则未评估（未配置大模型）：{', '.join(unevaluated)}")
    elif unevaluated:
        notes.append(f"{len(unevaluated)} 条规则大模型未能给出可信结论，需人工复核：{', '.join(unevaluated)}")
    if ctx.citations is None and any(
        f.verdict is Verdict.FAIL and f.dimension is Dimension.COMPLIANCE for f in findings
    ):
        notes.append("法规库未启用：合规违规只列条款编号，未附条文")
    quality = conversation.transcript_quality
    if quality is not None and not quality.judgeable:
        needs_review = True
        notes.append(f"转写质量不足，评分仅供参考，需人工复核：{quality.reason or '识别置信度过低'}")
    version = ctx.verdict_version
    key = evaluation_key(conversation.tenant, conversation.id, state["content_hash"], card.name, version)
    evaluation = Evaluation(
        id=str(uuid.uuid5(_EVALUATION_NAMESPACE, key)),
        conversation_id=conversation.id,
        tenant=conversation.tenant,
        agent_id=conversation.agent_id,
        scores=result.scores,
        total=result.total,
        auto_failed=result.auto_failed,
        risk_level=result.risk_level,
        needs_review=needs_review,
        findings=[f for f in result.findings if f.verdict in (Verdict.FAIL, Verdict.NOT_EVALUATED)],
        verdicts={f.rule_id: f.verdict for f in result.findings},
        rule_pack=card.name,
        rule_pack_version=card.version,
        verdict_version=version,
        content_hash=state["content_hash"],
        created_at=ctx.clock(),
        timings_ms=dict(state.get("timings_ms", {})),
        llm=state.get("llm_usage"),
        notes=notes,
    )
    return {"evaluation": evaluation}


def _persist(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """Store the evaluation (one transaction); a concurrent or earlier identical one wins."""
    store = ctx.store
    evaluation = state["evaluation"]
    if store is not None and not state.get("reused"):
        evaluation = store.save_evaluation(state["conversation"], evaluation)
    return {"evaluation": evaluation}


def _tickets(state: QMState, ctx: QMContext) -> dict[str, Any]:
    """A remediation ticket when the evaluation crosses the scorecard's thresholds (once per evaluation)."""
    ticket = draft_ticket(state["evaluation"], state["conversation"], ctx.ticket_policy, ctx.clock())
    if ticket is not None and ctx.store is not None:
        ticket = ctx.store.save_ticket(ticket)
    return {"tickets": [ticket] if ticket else []}


_ASSESS: Stages = (
    ("ingest", _ingest, None),
    ("rules", _rules, _fresh),
    ("small_models", _small_models, _fresh),
    ("cite", _cite, _settled),
    ("score", _score, _settled),
)
_RECORD: Stages = (("persist", _persist, None), ("tickets", _tickets, None))

assess = _node(*_ASSESS)
judge_semantics = _node(("llm", _llm, None))
conclude = _node(("cite", _cite, None), ("score", _score, None))
record = _node(*_RECORD)


def assess_each(state: QMBatch, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """`assess` on each conversation of a batch without LLM work (one graph step for all: LangGraph's bookkeeping
    per step costs about as much as a conversation's rules). A conversation sent again within the batch is left
    for `record_each`; an error stops here, keeping the conversations assessed before it."""
    ctx = runtime.context
    items: list[QMState] = []
    duplicates: dict[int, int] = {}
    first: dict[tuple[str, str, str], int] = {}
    for item in state["items"]:
        conversation = item["conversation"]
        key = (conversation.tenant, conversation.id, item.get("content_hash") or conversation.content_hash())
        if key in first:
            duplicates[len(items)] = first[key]
            items.append(item)
            continue
        first[key] = len(items)
        try:
            items.append(_updated(item, _run_stages(_ASSESS, item, ctx)))
        except Exception as exc:  # recorded by record_each for the ones before, then raised
            return {"items": items, "duplicates": duplicates, "failure": exc}
    return {"items": items, "duplicates": duplicates, "failure": None}


def record_each(state: QMBatch, runtime: Runtime[QMContext]) -> dict[str, Any]:
    """`record` on each assessed conversation, in order; one sent again within the batch is reported as the earlier
    one's evaluation, reused (its ticket made sure of, as `record` does for any re-submission). Then the error that
    stopped `assess_each`, if any, is raised."""
    ctx = runtime.context
    items: list[QMState] = []
    duplicates = state.get("duplicates", {})
    for at, item in enumerate(state["items"]):
        if at in duplicates:
            earlier = items[duplicates[at]]
            item = cast(QMState, {**item, "evaluation": earlier["evaluation"], "reused": True, "timings_ms": {}})
        items.append(_updated(item, _run_stages(_RECORD, item, ctx)))
    failure = state.get("failure")
    if failure is not None:
        raise failure
    return {"items": items}
