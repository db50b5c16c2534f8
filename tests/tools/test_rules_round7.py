"""Round 7 of the rule tier: classes of verdict errors seen across several writers' sets — a customer who gives up
on the call answered by a goodbye (X02, not S02).

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import Verdict
from core.scorecard import Scorecard
from knowledge.rulepacks import load_scorecard
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.transcripts import parse_plain_transcript

PACK = Path(__file__).resolve().parents[2] / "knowledge" / "rulepacks" / "retail_banking.yaml"


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    card: Scorecard = load_scorecard(PACK)
    return RuleEngine(card, DistressScorer())


def _verdict(engine: RuleEngine, rule_id: str, transcript: str, scenario: str | None = None) -> Verdict:
    conversation = parse_plain_transcript(transcript, conversation_id="r7", source="r7", scenario=scenario)
    rule = next(r for r in engine.scorecard.rules if r.id == rule_id)
    prepared, _ = engine.prepare(conversation)
    return engine.evaluate_rule(rule, prepared).verdict


# ── S02: a parting shot answered by a goodbye ends the call badly (X02); it is no feeling left unanswered ──


@pytest.mark.parametrize(
    ("parting", "goodbye", "after"),
    [
        ("行了行了，说来说去还是让我等，你们这服务真是太差劲了。", "坐席：感谢您的来电，再见。", ""),
        ("算了算了，跟你们这种银行真是说不清，太气人了！", "坐席：好的，那还有其他问题吗？", "\n客户：没有了。"),
        ("我再也不用你们的卡了，烦死人了！", "坐席：嗯嗯，祝您生活愉快，再见。", ""),
    ],
)
def test_parting_shot_answered_by_goodbye_passes(engine: RuleEngine, parting: str, goodbye: str, after: str) -> None:
    transcript = f"客户：我的退款到现在还没到账。\n坐席：系统显示还在处理中。\n客户：{parting}\n{goodbye}{after}"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.PASS


def test_goodbye_to_an_upset_customer_who_still_asks_fails(engine: RuleEngine) -> None:
    # No giving up: the customer is still waiting for an answer when the agent says goodbye.
    transcript = "客户：退款拖了一个月还没到，什么破服务，我要投诉！到底什么时候退？\n坐席：感谢您的来电，再见。"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.FAIL


def test_parting_shot_followed_by_a_new_grievance_fails(engine: RuleEngine) -> None:
    transcript = (
        "客户：算了算了，跟你们说不清，什么破服务！\n坐席：好的，再见。\n"
        "客户：等一下，你们多扣我的那笔年费到底退不退？我要一个说法！\n坐席：那个您去网点问。"
    )
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.FAIL
