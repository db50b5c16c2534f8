"""The debrief: each target rule pass/fail with evidence, the practice score on the four dimensions, what
changed since the agent's last session, and the next recommended scenario."""

from __future__ import annotations

from agents.coach.context import CoachContext
from agents.coach.feedback import evaluate_practice, practice_conversation
from agents.coach.models import Debrief, Difficulty, NextScenario, PracticeTurn, ReplyFeedback, Scenario, TargetResult
from core.models import Verdict
from tools.coaching.models import AgentOrg, WeaknessProfile
from tools.coaching.sessions import RuleOutcome, previous_outcomes
from tools.scoring import score

_HARDER = {Difficulty.EASY: Difficulty.MEDIUM, Difficulty.MEDIUM: Difficulty.HARD, Difficulty.HARD: Difficulty.HARD}


def _next(scenario: Scenario, targets: list[TargetResult], profile: WeaknessProfile) -> NextScenario:
    failing = [t for t in targets if not t.passed and t.verdict is Verdict.FAIL]
    if failing:
        return NextScenario(
            rules=[t.rule_id for t in failing],
            codes=list(dict.fromkeys(t.code for t in failing)),
            difficulty=scenario.difficulty,
            reason="practise again: " + ", ".join(f"{t.rule_id} ({t.code})" for t in failing),
        )
    fresh = [w for w in profile.weaknesses if w.rule_id not in scenario.target_rules][:3]
    if fresh:
        return NextScenario(
            rules=[w.rule_id for w in fresh],
            codes=list(dict.fromkeys(w.code for w in fresh)),
            difficulty=_HARDER[scenario.difficulty],
            reason="targets passed; next weakest rules in real calls: "
            + ", ".join(f"{w.rule_id} ({w.failed}/{w.applicable})" for w in fresh),
        )
    return NextScenario(
        rules=list(scenario.target_rules),
        codes=list(scenario.target_codes),
        difficulty=_HARDER[scenario.difficulty],
        reason="targets passed and no other weak rule: the same rules, harder",
    )


def build_debrief(
    ctx: CoachContext,
    *,
    session_id: str,
    agent: AgentOrg,
    scenario: Scenario,
    transcript: list[PracticeTurn],
    feedback: list[ReplyFeedback],
    profile: WeaknessProfile,
    ended_early: bool,
) -> tuple[Debrief, list[RuleOutcome]]:
    """The debrief of the whole practice transcript, and the target outcomes to store."""
    conversation = practice_conversation(session_id, agent, scenario, transcript)
    result = score(evaluate_practice(ctx, conversation, final=True, targets=scenario.target_rules), ctx.scorecard)
    by_id = {f.rule_id: f for f in result.findings}
    targets = []
    for rule_id in scenario.target_rules:
        finding = by_id[rule_id]
        targets.append(
            TargetResult(
                rule_id=rule_id,
                rule_name=finding.rule_name,
                code=finding.code,
                verdict=finding.verdict,
                passed=finding.verdict is Verdict.PASS,
                evidence=finding.evidence,
                failed_turns=[fb.turn for fb in feedback if any(f.rule_id == rule_id for f in fb.findings)],
            )
        )
    outcomes = [RuleOutcome(t.rule_id, t.code, t.verdict.value) for t in targets]
    previous_total, previous = previous_outcomes(
        ctx.store, tenant=agent.tenant, agent_id=agent.agent_id, before=session_id
    )
    before = {o.rule_id: o for o in previous}
    now = {o.rule_id: o for o in outcomes}
    notes = [f"评分层级 tiers: {ctx.tiers}"]
    unjudged = [t.rule_id for t in targets if t.verdict is Verdict.NOT_EVALUATED]
    if unjudged:
        notes.append(
            f"未配置大模型，语义规则未评估 (semantic rules not evaluated without an LLM): {', '.join(unjudged)}"
        )
    untested = [t.rule_id for t in targets if t.verdict is Verdict.NOT_APPLICABLE]
    if untested:
        notes.append(f"本次练习未触及 (not exercised in this session): {', '.join(untested)}")
    if ended_early:
        notes.append("练习提前结束 (ended before the customer raised every objection)")
    debrief = Debrief(
        session_id=session_id,
        agent_id=agent.agent_id,
        targets=targets,
        scores=result.scores,
        total=result.total,
        auto_failed=result.auto_failed,
        replies=sum(1 for t in transcript if t.role == "agent"),
        previous_total=previous_total,
        improved_rules=sorted(r for r, o in now.items() if o.passed and r in before and before[r].verdict == "fail"),
        regressed_rules=sorted(r for r, o in now.items() if o.verdict == "fail" and r in before and before[r].passed),
        next_scenario=_next(scenario, targets, profile),
        notes=notes,
    )
    return debrief, outcomes
