"""The survey check: a customer's own 1-of-5 rating is X02 whatever the call's wording (it was missed before when
the close sounded polite), and a conversation without a rating is not judged by it."""

from __future__ import annotations

import pytest

from core.models import Verdict
from core.scorecard import SurveyCheck
from tests.conftest import transcript
from tools.rules import RuleEngine

POLITE_CLOSE = "坐席：还有别的需要吗？\n客户：没有了，就这样。\n坐席：感谢来电，再见。"


@pytest.mark.parametrize(("csat", "expected"), [(1, Verdict.FAIL), (2, Verdict.PASS), (5, Verdict.PASS)])
def test_survey_rating_decides_the_survey_rule(engine: RuleEngine, csat: int, expected: Verdict) -> None:
    conversation = transcript(POLITE_CLOSE, outcome={"csat": csat})
    finding = next(f for f in engine.evaluate(conversation) if f.rule_id == "XP-SURVEY-DISSATISFIED")
    assert finding.verdict is expected
    if expected is Verdict.FAIL:
        assert finding.code == "X02"
        assert [e.turn for e in finding.evidence] == [1]  # the customer's last turn, read with the rating


def test_no_rating_is_not_applicable(engine: RuleEngine) -> None:
    finding = next(f for f in engine.evaluate(transcript(POLITE_CLOSE)) if f.rule_id == "XP-SURVEY-DISSATISFIED")
    assert finding.verdict is Verdict.NOT_APPLICABLE


def test_threshold_is_bounded() -> None:
    with pytest.raises(ValueError):
        SurveyCheck(csat_at_most=5)  # every rating would fail
