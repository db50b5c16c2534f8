"""One function per deterministic check kind: (conversation, check) -> CheckResult."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.models import Conversation, Role, Utterance, Verdict
from core.scorecard import (
    ConsistencyCheck,
    DistressCheck,
    ForbiddenCheck,
    Matcher,
    OrderCheck,
    RequiredCheck,
    SemanticCheck,
    SurveyCheck,
    TimingCheck,
    WeakPhrases,
)
from tools.rules.matching import Hit, compiled, find_hits, fuzzy_score, matches, window_turns
from tools.sentiment import DistressScorer


@dataclass
class CheckResult:
    """What a check decided, on which turns (with optional character spans), and how sure it is."""

    verdict: Verdict
    explanation: str
    confidence: float = 0.9
    hits: list[Hit] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)

    @property
    def evidence_turns(self) -> list[int]:
        return sorted({h.turn for h in self.hits} | set(self.turns))


def _not_triggered(conversation: Conversation, when: Matcher | None) -> CheckResult | None:
    if when is not None and not matches(conversation, when):
        return CheckResult(Verdict.NOT_APPLICABLE, "触发条件未出现（the situation this rule covers did not occur）")
    return None


def check_forbidden(conversation: Conversation, check: ForbiddenCheck, _: DistressScorer) -> CheckResult:
    if skipped := _not_triggered(conversation, check.when):
        return skipped
    eligible = window_turns(conversation, check.window)
    hits = _forbidden_hits(conversation, check, check.patterns, eligible)
    if check.weak is not None:
        hits += _weak_hits(conversation, check, check.weak, eligible)
    if len({h.turn for h in hits}) >= check.min_hits:
        said = "、".join(dict.fromkeys(conversation.turns[h.turn].text[h.start : h.end] for h in hits))
        return CheckResult(Verdict.FAIL, f"出现不应出现的表述：{said}", 0.9, hits=hits)
    return CheckResult(Verdict.PASS, "未出现禁止的表述", 0.85)


def _forbidden_hits(
    conversation: Conversation, check: ForbiddenCheck, patterns: list[str], eligible: list[int]
) -> list[Hit]:
    """Matches of `patterns` in the eligible turns, scoped as the check says (role, negation, quoting, unless)."""
    return find_hits(
        conversation,
        patterns,
        role=check.role,
        turns=eligible,
        negation_aware=check.negation_aware,
        skip_reported=check.skip_quoting,
        unless=check.unless,
    )


def _weak_hits(conversation: Conversation, check: ForbiddenCheck, weak: WeakPhrases, eligible: list[int]) -> list[Hit]:
    """Hits of the weak phrases that stand in their context (or in a scenario where they need none)."""
    hits = _forbidden_hits(conversation, check, weak.patterns, eligible)
    if not hits or conversation.scenario in weak.scenarios:
        return hits
    turns = conversation.turns
    return [
        h
        for h in hits
        if any(
            compiled(p).search(turns[i].text)
            for i in range(max(0, h.turn - weak.context_turns), h.turn + 1)
            for p in weak.context
        )
    ]


def check_required(conversation: Conversation, check: RequiredCheck, _: DistressScorer) -> CheckResult:
    if skipped := _not_triggered(conversation, check.when):
        return skipped
    if check.waived_by is not None and (waiver := matches(conversation, check.waived_by)):
        return CheckResult(Verdict.NOT_APPLICABLE, "要求被豁免（如客户主动挂断）", hits=waiver[:1])
    eligible = window_turns(conversation, check.window)
    hits = find_hits(conversation, check.patterns, role=check.role, turns=eligible, negation_aware=True)
    if hits:
        return CheckResult(Verdict.PASS, "要求的表述已出现", 0.9, hits=hits[:1])
    best, best_turn = 0.0, None
    for index in eligible:
        turn = conversation.turns[index]
        if check.role is not None and turn.role is not check.role:
            continue
        for phrase in check.phrases:
            score = fuzzy_score(phrase, turn.text)
            if score > best:
                best, best_turn = score, index
    if best >= check.threshold and best_turn is not None:
        return CheckResult(Verdict.PASS, f"话术已出现（相似度 {best:.0f}）", 0.6 + 0.4 * best / 100, turns=[best_turn])
    # Script lines are shown as written; regular expressions are nothing to show a QA lead.
    wanted = f"（应包含：{'；'.join(check.phrases[:2])}）" if check.phrases else ""
    # A near miss on a fuzzy script is less certain than a total absence.
    confidence = 0.9 if best < check.threshold - 15 else 0.65
    return CheckResult(
        Verdict.FAIL,
        f"未出现要求的表述{wanted}",
        confidence,
        turns=_where_due(conversation, check, eligible),
    )


def _where_due(conversation: Conversation, check: RequiredCheck, eligible: list[int]) -> list[int]:
    """Evidence for an absence: what triggered the requirement, else the turn where it was due."""
    if check.when is not None:
        return sorted({h.turn for h in matches(conversation, check.when)})[:3]
    speaker = [i for i in eligible if check.role is None or conversation.turns[i].role is check.role]
    if not speaker:
        return []
    closing = check.window is not None and check.window.last_turns is not None
    return [speaker[-1]] if closing else [speaker[0]]


def check_order(conversation: Conversation, check: OrderCheck, _: DistressScorer) -> CheckResult:
    if skipped := _not_triggered(conversation, check.when):
        return skipped
    if check.waived_by is not None and (waiver := matches(conversation, check.waived_by)):
        return CheckResult(Verdict.NOT_APPLICABLE, "顺序要求被豁免（如接听人不是客户本人）", hits=waiver[:1])
    then_hits = matches(conversation, check.then)
    if not then_hits:
        return CheckResult(Verdict.NOT_APPLICABLE, "后续事件未发生")
    then_turn = min(h.turn for h in then_hits)
    then_start = min(h.start for h in then_hits if h.turn == then_turn)
    # "核实通过，您本期账单是…": the step done earlier in the same turn is in order too.
    first_hits = matches(conversation, check.first, turns=range(then_turn)) + [
        h for h in matches(conversation, check.first, turns=[then_turn]) if h.end <= then_start
    ]
    if first_hits:
        return CheckResult(Verdict.PASS, "顺序正确", 0.85, hits=[first_hits[0]])
    late = matches(conversation, check.first, turns=range(then_turn, len(conversation.turns)))
    note = "，之后才补做" if late else ""
    evidence = [h for h in then_hits if h.turn == then_turn][:1] + late[:1]
    return CheckResult(Verdict.FAIL, f"在前置步骤之前就发生了后续事件{note}", 0.85, hits=evidence)


def _silences(conversation: Conversation, check: TimingCheck) -> list[tuple[int, int]]:
    turns = conversation.turns
    found = []
    for i in range(1, len(turns)):
        gap = (turns[i].start or 0) - (turns[i - 1].end or 0)
        if gap <= check.threshold:
            continue
        prev, nxt = turns[i - 1], turns[i]
        # Silence after the agent asked something is the customer thinking, not a hold.
        customer_checks_in = nxt.role is Role.CUSTOMER and compiled(r"喂|有人吗|还在吗|在吗|人呢").search(nxt.text)
        agent_owes = (
            nxt.role is Role.AGENT
            or customer_checks_in
            or (prev.role is Role.AGENT and not compiled(r"[？?]\s*$|吗\s*$").search(prev.text))
        )
        last_agent = next((t for t in reversed(turns[:i]) if t.role is Role.AGENT), None)
        announced = last_agent is not None and any(compiled(p).search(last_agent.text) for p in check.announce)
        if agent_owes and not announced:
            found.append((i - 1, i))
    return found


def _agent_replies(conversation: Conversation) -> list[tuple[int, Utterance, Utterance]]:
    """(index of the agent turn, the customer turn before it, the agent turn) for every customer → agent hand-over."""
    turns = conversation.turns
    return [
        (i, turns[i - 1], turns[i])
        for i in range(1, len(turns))
        if turns[i - 1].role is Role.CUSTOMER and turns[i].role is Role.AGENT
    ]


def _reply_latencies(conversation: Conversation, check: TimingCheck, scorer: DistressScorer) -> list[tuple[int, ...]]:
    return [
        (i - 1, i)
        for i, customer, agent in _agent_replies(conversation)
        if scorer.score(customer.text) >= 0.5 and (agent.start or 0) - (customer.end or 0) > check.threshold
    ]


def _overtalks(conversation: Conversation, check: TimingCheck, _: DistressScorer) -> list[tuple[int, ...]]:
    return [
        (i - 1, i)
        for i, customer, agent in _agent_replies(conversation)
        if (customer.end or 0) - (agent.start or 0) >= check.threshold
    ]


_SPOKEN_UNIT = re.compile(r"[\u4e00-\u9fff\d]|[A-Za-z]+(?:'[A-Za-z]+)?")


def _spoken_units(text: str) -> int:
    """Syllable-like units said: a Chinese character or a digit each, an English word as one — not its letters,
    spaces and punctuation (an English sentence measured in characters reads as three times too fast)."""
    return len(_SPOKEN_UNIT.findall(text))


def _fast_speech(conversation: Conversation, check: TimingCheck, _: DistressScorer) -> list[tuple[int, ...]]:
    found: list[tuple[int, ...]] = []
    for i, t in enumerate(conversation.turns):
        duration = (t.end or 0) - (t.start or 0)
        units = _spoken_units(t.text)
        if t.role is Role.AGENT and units >= 20 and duration > 0 and units / duration * 60 > check.threshold:
            found.append((i,))
    return found


_TIMING_METRICS: dict[str, tuple[str, Callable[[Conversation, TimingCheck, DistressScorer], list[tuple[int, ...]]]]] = {
    "silence": ("超过 {t:g} 秒的未告知静默", lambda c, check, _: list(_silences(c, check))),
    "reply_latency": ("客户情绪激动后超过 {t:g} 秒才回应", _reply_latencies),
    "overtalk": ("坐席在客户说话时抢话（重叠 ≥ {t:g} 秒）", _overtalks),
    "speech_rate": ("语速超过每分钟 {t:g} 字", _fast_speech),
}


def check_timing(conversation: Conversation, check: TimingCheck, scorer: DistressScorer) -> CheckResult:
    if not conversation.timed:
        return CheckResult(Verdict.NOT_APPLICABLE, "转写没有时间戳，无法计算时长类指标")
    template, find = _TIMING_METRICS[check.metric]
    what = template.format(t=check.threshold)
    occurrences = find(conversation, check, scorer)
    if len(occurrences) >= check.min_count:
        flat = sorted({i for occ in occurrences for i in occ})
        return CheckResult(Verdict.FAIL, f"{what}：{len(occurrences)} 处", 0.95, turns=flat)
    return CheckResult(Verdict.PASS, f"未发现{what}", 0.95)


_ANSWER_HEAD = re.compile(r"[\s嗯啊哦呃，,]*([^\s，,。！？!?…~]{1,6})")  # a fixed pattern: linear on any text


def _polar(text: str, question: str = "") -> bool:
    """The customer answers yes or no: with a yes/no word, or (the commonest Chinese answer) by echoing the
    question's verb — "提示了", "做过", "自愿的", "讲了讲了"."""
    # "说了"/"讲过" answers "有没有告诉您…"; "能吧" answers "能不能…"; 系 is the Cantonese yes.
    yes_or_no = r"^[\s嗯啊哦呃，,]*(是|对|有|没有|没|不是|知道|清楚|了解|晓得|确认|说了|说过|讲了|讲过|能|系)"
    if compiled(yes_or_no).search(text):
        return True
    head = _ANSWER_HEAD.match(text)
    if head is None:
        return False
    word = head.group(1)
    stem = word.rstrip("了过的啦呀嘛撒哈")
    return bool(stem) and len(word) <= 6 and stem[:2] in question


def _correction(answer: str, question: str, pattern: str) -> bool:
    """A correction cue in the answer that does not merely echo the question: "您闺女只是帮您操作，是吗？" — "对，
    她帮我点的" confirms what was asked (帮您 → 帮我) and corrects nothing."""
    for m in compiled(pattern).finditer(answer):
        said = answer[m.start() : m.end()]
        if not any(said.replace("我", you) in question for you in ("您", "你")):
            return True
    return False


def _reconfirms(follow: str, check: ConsistencyCheck) -> bool:
    """The agent's next turn takes the contradiction up — before it moves on to the next item, if it does."""
    moved = [m.start() for p in check.moves_on if (m := compiled(p).search(follow))]
    limit = min(moved, default=len(follow))
    return any((m := compiled(p).search(follow)) and m.start() < limit for p in check.reconfirm)


def check_consistency(conversation: Conversation, check: ConsistencyCheck, _: DistressScorer) -> CheckResult:
    turns = conversation.turns
    asked = 0
    for q, turn in enumerate(turns):
        if turn.role is not Role.AGENT or not any(compiled(p).search(turn.text) for p in check.question):
            continue
        asked += 1
        answers = []
        j = q + 1
        while j < len(turns) and turns[j].role is not Role.AGENT:
            if turns[j].role is Role.CUSTOMER:
                answers.append(j)
            j += 1
        if not answers:
            continue
        text = "".join(turns[a].text for a in answers)
        if not _polar(text, turn.text):
            continue
        corrected = any(_correction(text[1:], turn.text, p) for p in check.correction)
        flipped = compiled(
            r"^[^。！？]{0,4}(是|有)[^。！？]{0,6}(不是|没有)|^[^。！？]{0,4}(不是|没有)[^。！？]{0,6}是的"
        ).search(text)
        if not (corrected or flipped):
            continue
        if any(compiled(p).search(text) for p in check.clarified):
            continue
        follow = turns[j].text if j < len(turns) else ""
        if follow and _reconfirms(follow, check):
            continue
        evidence = [q, *answers] + ([j] if j < len(turns) else [])
        return CheckResult(Verdict.FAIL, "客户对封闭式问题的回答前后矛盾，坐席未复核即继续", 0.75, turns=evidence)
    if not asked:
        return CheckResult(Verdict.NOT_APPLICABLE, "没有封闭式确认问题")
    return CheckResult(Verdict.PASS, "客户回答一致，或矛盾已复核", 0.7)


_CLOSING_WORDS = 12  # "没了，谢谢", "行，我不想再跟你说了": a closing word, not a new subject


def check_distress(conversation: Conversation, check: DistressCheck, scorer: DistressScorer) -> CheckResult:
    turns = conversation.turns
    customer_turns = [i for i, t in enumerate(turns) if t.role is Role.CUSTOMER]
    ends_appeased = bool(customer_turns) and _appeased(turns[customer_turns[-1]].text, check, scorer)
    upset = 0
    first_upset: int | None = None
    for i in customer_turns:
        score = scorer.score(turns[i].text)
        if score < check.threshold:
            continue
        upset += 1
        first_upset = i if first_upset is None else first_upset
        replies = [k for k in range(i + 1, len(turns)) if turns[k].role is Role.AGENT][: check.within_agent_turns]
        if not replies:
            continue
        if find_hits(conversation, check.acknowledge, role=Role.AGENT, turns=replies, negation_aware=True):
            continue
        # A parting shot answered by the agent's goodbye is the call ending badly (X02), not a feeling left
        # unanswered while the call goes on.
        if _parting_shot(conversation, check, i, replies[0]):
            continue
        # The same grievance, already acknowledged earlier in the call: a renewed outburst below the intense level
        # is part of that episode, not a new feeling left unanswered.
        earlier = [k for k in range(first_upset + 1, i) if turns[k].role is Role.AGENT]
        if score < check.intense and find_hits(
            conversation, check.acknowledge, role=Role.AGENT, turns=earlier, negation_aware=True
        ):
            continue
        # Ordinary upset is answered by taking the problem in hand, or shown answered by a calm, thankful close;
        # intense upset needs both (or an explicit acknowledgement).
        handled = bool(find_hits(conversation, check.handling, role=Role.AGENT, turns=replies, negation_aware=True))
        settled = ends_appeased and i != customer_turns[-1]
        if (score < check.intense and (handled or settled)) or (handled and settled):
            continue
        return CheckResult(Verdict.FAIL, "客户情绪激动，坐席随后的回应没有致歉或安抚", 0.7, turns=[i, *replies])
    if not upset:
        return CheckResult(Verdict.NOT_APPLICABLE, "客户没有明显的负面情绪")
    return CheckResult(Verdict.PASS, "客户的情绪得到回应", 0.7)


def _parting_shot(conversation: Conversation, check: DistressCheck, upset: int, reply: int) -> bool:
    """True when the customer gives up on the call ("算了", "行了行了", "再也不用你们的卡"), the agent's first reply
    says goodbye and the customer raises nothing new after it."""
    if not find_hits(conversation, check.resigned, role=Role.CUSTOMER, turns=[upset], negation_aware=False):
        return False
    if not find_hits(conversation, check.farewell, role=Role.AGENT, turns=[reply], negation_aware=False):
        return False
    later = [k for k in range(reply + 1, len(conversation.turns)) if conversation.turns[k].role is Role.CUSTOMER]
    return all(len(conversation.turns[k].text) <= _CLOSING_WORDS for k in later)


def _appeased(text: str, check: DistressCheck, scorer: DistressScorer) -> bool:
    return scorer.score(text) < 0.3 and any(compiled(p).search(text) for p in check.appeased)


def check_semantic(conversation: Conversation, check: SemanticCheck, _: DistressScorer) -> CheckResult:
    if check.when is not None:
        triggers = matches(conversation, check.when, turns=window_turns(conversation, check.window))
        if check.discharged_by is not None:
            triggers = [h for h in triggers if not _discharged(conversation, h.turn, check.discharged_by)]
        if not triggers:
            return CheckResult(Verdict.NOT_APPLICABLE, "触发条件未出现（the situation this rule covers did not occur）")
    return CheckResult(
        Verdict.NOT_EVALUATED,
        "需要大模型语义判断，本次未配置大模型（semantic rule: no LLM configured）",
        confidence=0.0,
    )


def _discharged(conversation: Conversation, turn: int, discharge: Matcher) -> bool:
    """True when the agent turn just before or just after ``turn`` matches ``discharge``."""
    turns = conversation.turns
    before = next((k for k in range(turn - 1, -1, -1) if turns[k].role is Role.AGENT), None)
    after = next((k for k in range(turn + 1, len(turns)) if turns[k].role is Role.AGENT), None)
    adjacent = [k for k in (before, after) if k is not None and k != turn]
    return bool(adjacent) and bool(matches(conversation, discharge, turns=adjacent))


def check_survey(conversation: Conversation, check: SurveyCheck, _: DistressScorer) -> CheckResult:
    csat = conversation.outcome.csat
    if csat is None:
        return CheckResult(Verdict.NOT_APPLICABLE, "没有客户满意度评分（no post-call survey score）")
    if csat > check.csat_at_most:
        return CheckResult(Verdict.PASS, f"客户满意度评分 {csat}/5", 0.9)
    # The rating is about how the call ended: the customer's last turn is the evidence to read with it.
    last = [i for i, t in enumerate(conversation.turns) if t.role is Role.CUSTOMER][-1:]
    return CheckResult(
        Verdict.FAIL, f"客户满意度评分 {csat}/5（the customer rated the call {csat} of 5）", 0.95, turns=last
    )


CHECKS: dict[str, Callable[[Conversation, Any, DistressScorer], CheckResult]] = {
    "forbidden": check_forbidden,
    "required": check_required,
    "order": check_order,
    "timing": check_timing,
    "consistency": check_consistency,
    "distress": check_distress,
    "semantic": check_semantic,
    "survey": check_survey,
}
