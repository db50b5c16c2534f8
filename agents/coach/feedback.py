"""Per-reply scoring and feedback: the practice transcript so far is evaluated with the same scorecard and tiers
as real calls; the reply's own findings, a one-line hint and, where it failed, a model answer come back."""

from __future__ import annotations

from collections.abc import Collection

from agents.coach.catalog import Language
from agents.coach.context import CoachContext
from agents.coach.models import PracticeTurn, ReplyFeedback, ReplyFinding, Scenario
from core.models import Conversation, Finding, Role, Utterance, Verdict
from core.scorecard import RequiredCheck, Rule
from tools.coaching.answers import find_model_answer
from tools.coaching.models import AgentOrg
from tools.coaching.pool import CustomerTurnPool
from tools.scoring import Score, score
from tools.semantic import JudgeRequest


def practice_conversation(
    session_id: str, agent: AgentOrg, scenario: Scenario, turns: list[PracticeTurn]
) -> Conversation:
    """The practice transcript as a conversation of the agent (no times: timing rules do not apply)."""
    return Conversation(
        id=f"practice-{session_id}",
        tenant=agent.tenant,
        agent_id=agent.agent_id,
        scenario=scenario.business_scenario,
        turns=[Utterance(index=t.index, role=Role(t.role), text=t.text) for t in turns],
        **agent.path(),
    )


def judged_at_end(rule: Rule) -> bool:
    """Rules about how a call ends (closing script) cannot fail while the session is still going."""
    return (
        isinstance(rule.check, RequiredCheck)
        and rule.check.window is not None
        and rule.check.window.last_turns is not None
    )


def evaluate_practice(
    ctx: CoachContext, conversation: Conversation, *, final: bool, targets: Collection[str]
) -> list[Finding]:
    """Tier 0, tier 1 when loaded, the LLM tier when configured (mid-session: only for target rules)."""
    findings = ctx.engine.evaluate(conversation)
    if ctx.small_models is not None:
        findings = ctx.small_models.apply(conversation, findings, ctx.scorecard)
    if ctx.judge is not None:
        threshold = ctx.scorecard.thresholds.review_below_confidence
        requests = [
            JudgeRequest(
                rule=ctx.scorecard.rule(f.rule_id),
                finding=f,
                purpose="semantic" if f.verdict is Verdict.NOT_EVALUATED else "second_opinion",
            )
            for f in findings
            if (final or f.rule_id in targets)
            and (f.verdict is Verdict.NOT_EVALUATED or (f.verdict is Verdict.FAIL and f.confidence < threshold))
        ]
        if requests:
            judged, _ = ctx.judge.judge(conversation, requests)
            findings = [judged.get(f.rule_id, f) for f in findings]
    if not final:
        findings = [f for f in findings if not judged_at_end(ctx.scorecard.rule(f.rule_id))]
    return findings


def reply_findings(findings: list[Finding], reply_turn: int, previously_failing: Collection[str]) -> list[Finding]:
    """Failures on the reply itself, and new failures about the customer line it answered (a disclosure the
    reply owed, an upset customer left unacknowledged)."""
    own = []
    for f in findings:
        if f.verdict is not Verdict.FAIL or (f.deduction == 0 and f.suppressed_by is None):
            continue
        turns = {e.turn for e in f.evidence}
        if reply_turn in turns or (f.rule_id not in previously_failing and reply_turn - 1 in turns):
            own.append(f)
    return own


def _hint(ctx: CoachContext, failures: list[Finding], language: str) -> str:
    lang: Language = "en" if language == "en" else "zh"
    if not failures:
        return ctx.catalog.praise.pick(lang)
    first = failures[0]
    advice = ctx.catalog.hint(first.code, lang)
    return f"{first.rule_name}：{advice}" if advice else first.rule_name


def assess_reply(
    ctx: CoachContext,
    *,
    conversation: Conversation,
    reply_turn: int,
    previously_failing: Collection[str],
    scenario: Scenario,
    pool: CustomerTurnPool,
) -> tuple[ReplyFeedback, list[str]]:
    """Feedback on the reply at `reply_turn`, and the rules failing in the transcript so far."""
    findings = evaluate_practice(ctx, conversation, final=False, targets=scenario.target_rules)
    result: Score = score(findings, ctx.scorecard)
    priorities = {r.id: r.effective_priority for r in ctx.scorecard.rules}
    failures = sorted(
        reply_findings(result.findings, reply_turn, previously_failing),
        key=lambda f: (f.rule_id not in scenario.target_rules, -priorities[f.rule_id], -f.deduction),
    )
    answer = None
    if failures and reply_turn > 0:
        concern = conversation.turns[reply_turn - 1].text
        vector = pool.vector_of(concern)
        if vector is None:
            vector = ctx.pools.vectors.query(concern)
        for failure in failures[:2]:
            answer = find_model_answer(
                pool,
                ctx.engine,
                ctx.scorecard.rule(failure.rule_id),
                concern=concern,
                concern_vector=vector,
                scenario=scenario.business_scenario,
            )
            if answer is not None:
                break
    feedback = ReplyFeedback(
        turn=reply_turn,
        reply=conversation.turns[reply_turn].text,
        passed=not failures,
        findings=[
            ReplyFinding(
                rule_id=f.rule_id,
                rule_name=f.rule_name,
                code=f.code,
                dimension=f.dimension,
                verdict=f.verdict,
                explanation=f.explanation,
                evidence=f.evidence,
                tier=f.tier.value,
            )
            for f in failures
        ],
        hint=_hint(ctx, failures, scenario.language),
        model_answer=answer,
        scores=result.scores,
        total=result.total,
    )
    failing = [f.rule_id for f in result.findings if f.verdict is Verdict.FAIL]
    return feedback, failing
