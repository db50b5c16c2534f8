"""Round 3 of the rule tier (issue 9), from misses on sets written by new writers (G, I): each case is the pattern
class in fresh words, and each failed before."""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.conftest import transcript
from tools.rules import RuleEngine


def _failed(engine: RuleEngine, text: str, scenario: str | None = None) -> set[str]:
    return {f.code for f in engine.evaluate(transcript(text, scenario=scenario)) if f.verdict is Verdict.FAIL}


# C10: the customer answers a closed question by echoing its verb ("签了", "看过") and then contradicts it; a
# "最后确认一下" that follows is the next item, not a reconfirmation.
ECHO_CONTRADICTION = (
    "坐席：合同是您本人签的字吗？\n"
    "客户：签了。其实那天是我侄子拿去帮我签的，我没去。\n"
    "坐席：好的，最后确认一下，您还有别的问题吗？\n"
    "客户：没有了。"
)
ECHO_RECONFIRMED = (
    "坐席：合同是您本人签的字吗？\n"
    "客户：签了。其实那天是我侄子拿去帮我签的，我没去。\n"
    "坐席：您是说不是您本人签的？这个我需要再确认一下。\n"
    "客户：对，是他签的。"
)


def test_an_echoed_answer_then_contradicted_and_not_reconfirmed_is_c10(engine: RuleEngine) -> None:
    assert "C10" in _failed(engine, ECHO_CONTRADICTION, "callback")


def test_an_echoed_answer_contradicted_and_reconfirmed_passes(engine: RuleEngine) -> None:
    assert "C10" not in _failed(engine, ECHO_RECONFIRMED, "callback")


# C12: outcomes only the bank's approval can give, promised as the agent's own doing.
@pytest.mark.parametrize(
    "line",
    [
        "坐席：这个您放心，包过的，材料交齐就行。",
        "坐席：我跟风控主任打个招呼，这笔就下来了。",
        "坐席：您把这期还上，我就把那条逾期记录给您删掉。",
        "坐席：亏掉的部分由我们行里给您补上，您别担心。",
        "坐席：行，我就把这个月的罚息给您免了。",
    ],
)
def test_promises_beyond_authority_in_other_words_are_c12(engine: RuleEngine, line: str) -> None:
    assert "C12" in _failed(engine, f"客户：这个能办吗？\n{line}", "loan")


@pytest.mark.parametrize(
    "line",
    [
        "坐席：能不能批要看审批结果，我没办法保证。",
        "坐席：逾期记录会按规定如实上报，我们删不了。",
        "坐席：我帮您把申请提交上去，审批通过会短信通知您。",
    ],
)
def test_honest_answers_about_approval_are_not_c12(engine: RuleEngine, line: str) -> None:
    assert "C12" not in _failed(engine, f"客户：这个能办吗？\n{line}", "loan")


# S02: distress said with the everyday intensifiers of complaint ("愁得…睡不着", "气得…") was scored calm.
def test_everyday_intensifiers_of_distress_need_an_acknowledgement(engine: RuleEngine) -> None:
    text = (
        "坐席：您好，请问有什么可以帮您？\n"
        "客户：我那笔退款一个月了还没到，气得我觉都睡不着，这钱是我看病的钱。\n"
        "坐席：退款一般十五个工作日到账。\n"
        "客户：那现在都超了。\n"
        "坐席：系统显示已经退了。"
    )
    assert "S02" in _failed(engine, text, "complaint")
