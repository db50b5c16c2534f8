"""Model answers: what an agent said, in a real converted call, to a concern like the one just practised.

A candidate is the agent's next turn after a similar customer line, in a conversation that converted and did
not fail the rule; it must itself pass the rule when put after the practised concern, and say nothing forbidden.
"""

from __future__ import annotations

from collections.abc import Callable

from core.models import Conversation, Role, Utterance, Verdict
from core.scorecard import ForbiddenCheck, Rule
from tools.coaching.models import CustomerLine, ModelAnswer
from tools.coaching.pool import CustomerTurnPool, Vector
from tools.rules import RuleEngine

CANDIDATES = 12
MIN_REPLY_CHARS = 8


def _golden(rule: Rule) -> Callable[[CustomerLine], bool]:
    def keep(line: CustomerLine) -> bool:
        return (
            line.converted is True
            and line.reply is not None
            and len(line.reply) >= MIN_REPLY_CHARS
            and rule.code not in line.failed_codes
            and rule.id not in line.failed_rules
        )

    return keep


def passes_in_context(engine: RuleEngine, rule: Rule, concern: str, reply: str, scenario: str | None) -> bool:
    """Whether `reply`, said right after `concern`, passes `rule` and breaks no forbidden rule."""
    conversation = Conversation(
        id="model-answer-check",
        scenario=scenario,
        turns=[
            Utterance(index=0, role=Role.CUSTOMER, text=concern),
            Utterance(index=1, role=Role.AGENT, text=reply),
        ],
    )
    verdict = engine.evaluate_rule(rule, conversation).verdict
    if verdict is not Verdict.PASS and not (
        verdict is Verdict.NOT_APPLICABLE and isinstance(rule.check, ForbiddenCheck)
    ):
        return False
    for other in engine.scorecard.rules:
        agent_rule = isinstance(other.check, ForbiddenCheck) and other.check.role is Role.AGENT
        if agent_rule and engine.evaluate_rule(other, conversation).verdict is Verdict.FAIL:
            return False
    return True


def find_model_answer(
    pool: CustomerTurnPool,
    engine: RuleEngine,
    rule: Rule,
    *,
    concern: str,
    concern_vector: Vector,
    scenario: str | None,
) -> ModelAnswer | None:
    """The best golden-script turn for `rule` after `concern`, with its conversation id (None: none found)."""
    keep = _golden(rule)
    for line, similarity in pool.rank(concern_vector, keep, limit=CANDIDATES):
        if line.reply is None or line.reply_turn is None:
            continue
        if passes_in_context(engine, rule, concern, line.reply, scenario):
            return ModelAnswer(
                conversation_id=line.conversation_id,
                turn=line.reply_turn,
                quote=line.reply,
                customer_concern=line.text,
                rule_id=rule.id,
                similarity=round(similarity, 3),
                source=line.source,
            )
    return None
