"""The deterministic planner: recognises the common question types (zh and en) without a language model and
says which tool to run with which arguments. Follow-ups ("那他和团队平均比呢？") reuse the last subject."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.insight.answer import Intent, Subject

_AGENT_PATTERNS = (
    re.compile(r"(?:坐席|座席|客服|员工|理财经理|agent|rep)\s*(?:no\.?|#|号)?\s*([A-Za-z]?\d{1,4})(?![\d])", re.I),
    re.compile(r"(?<![A-Za-z\d])([A-Za-z]?\d{1,4})\s*号\s*(?:坐席|座席|客服|员工)?"),
    re.compile(r"(?<![A-Za-z\d])([Aa]\d{2,4})(?![\d])"),
)
_PRONOUN = re.compile(
    r"他|她|ta(?![a-z])|该坐席|这位|此人|这个人|\b(?:he|she|him|her|his|this agent|that agent)\b", re.I
)
_BRANCH = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:分行|支行))")
_TEAM = re.compile(r"([\u4e00-\u9fff]{2,8}组)")
_CODE = re.compile(r"(?<![A-Za-z\d])([CSBX]\d{2})(?!\d)")
_TEAM_COMPARE = re.compile(
    r"(团队|本组|组里|同组|同事|team|peers|colleagues).*(比|相比|对比|平均|差距|compare|vs|average)|"
    r"(比|相比|对比|compare|vs|versus).*(团队|本组|同组|同事|team|peers)",
    re.I,
)

SCENARIO_WORDS = (
    ("wealth_sales", r"理财|基金|财富|wealth|investment product"),
    ("telemarketing", r"电销|外呼营销|分期营销|telemarketing|outbound sales"),
    ("callback", r"回访|call-?backs?"),
    ("collection", r"催收|collections?"),
    ("loan", r"贷款|信贷|loans?"),
)
CODE_WORDS = (
    ("C03", r"保本|保收益|承诺收益|稳赚|guarantee"),
    ("C05", r"误导|说成存款|mislead"),
    ("C04", r"适当性|风险承受|suitab"),
    ("C01", r"身份核实|核实身份|identity"),
    ("C02", r"风险揭示|风险提示|risk disclosure"),
    ("B02", r"照本宣科|忽视需求|不听客户|ignor\w* (?:the )?(?:customer|stated) needs?"),
)
METRIC_WORDS = (
    ("conversion", r"转化|成交|成单|conver"),
    ("csat", r"满意|csat|satisf"),
    ("compliance", r"合规分|compliance score"),
    ("attitude", r"态度|attitude"),
    ("competence", r"业务能力|competence"),
    ("experience", r"客户体验|experience"),
    ("fail_rate", r"违规|问题|扣分|出错|violat|breach|mis-?sell|fail|issues?"),
    ("total", r"得分|分数|总分|表现|score|perform"),
)
INTENT_WORDS: tuple[tuple[Intent, str], ...] = (
    (
        "golden_scripts",
        r"金牌话术|话术|怎么回答|怎么回应|如何回应|如何回答|怎么应对|怎么说|"
        r"best (?:reply|replies|response|answer|script)|golden script|"
        r"how (?:do|did|should) (?:top |the best )?agents? (?:answer|respond|reply|handle)|"
        r"what do (?:top|good) agents say",
    ),
    (
        "customer_needs",
        r"关心|关注|在意|诉求|需求|痛点|最想|问得最多|客户.*(?:问什么|问题类型)|customer needs?|"
        r"customers? (?:care|ask|want|worry)|what do customers|topics?|demand",
    ),
    (
        "drivers",
        r"影响|驱动|相关|关系|导致|拉低|原因.*(?:转化|满意)|(?:转化|满意).*原因|driv|correlat|affect|impact|"
        r"associated|go(?:es)? with",
    ),
    ("complaint_risk", r"投诉风险|可能投诉|会投诉|升级|风险通话|complaint risk|likely to complain|escalat|at risk"),
    ("search", r"搜索|查找|检索|找一下|找出.*(?:说|提到)|提到|包含|search|find (?:calls|turns)|mention"),
    ("trend", r"趋势|走势|每周|按周|逐周|周度|变化|trend|over time|weekly|week by week|per week"),
)
_RANK = (
    r"哪个|哪家|哪些|哪一|谁|排名|排行|排序|最差|最好|最高|最低|最多|最少|对比|比较|"
    r"which|rank|worst|best|top|most|least|compare"
)
_BEST = re.compile(r"最好|最高|最佳|最多.*转化|best|highest|top performer", re.I)


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    """What the planner understood and which tools it will run."""

    intent: Intent
    subject: Subject
    calls: list[ToolCall]
    best_first: bool = False
    language: str = "zh"
    notes: list[str] = Field(default_factory=list)


def agent_ids(question: str) -> list[str]:
    """Agent references in a question, normalised: "17号坐席", "agent 17", "坐席A017", "A017" → "A017"."""
    found: list[str] = []
    for pattern in _AGENT_PATTERNS:
        for match in pattern.finditer(question):
            raw = match.group(1)
            letter = raw[0].upper() if raw[0].isalpha() else "A"
            digits = raw[1:] if raw[0].isalpha() else raw
            agent = f"{letter}{int(digits):03d}"
            if agent not in found:
                found.append(agent)
    return found


def _first(table: tuple[tuple[str, str], ...], question: str) -> str | None:
    return next((name for name, pattern in table if re.search(pattern, question, re.I)), None)


def language_of(question: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"


def _concern(question: str) -> str:
    """The customer concern a golden-script question is about ("客户担心风险时…" → "风险")."""
    from tools.insight.golden import concern_words

    for name, words in concern_words().items():
        if name in question or any(w in question for w in words):
            return name
    match = re.search(r"(?:担心|嫌|问|提到|说|about|on|with)\s*[“\"']?([\u4e00-\u9fffA-Za-z]{2,8})", question)
    return match.group(1) if match else question.strip()[:8]


def _search_text(question: str) -> str:
    quoted = re.search(r"[“\"'「『]([^”\"'」』]+)[”\"'」』]", question)
    if quoted:
        return quoted.group(1)
    match = re.search(
        r"(?:提到|包含|说了?|说过|mention(?:ing|s)?|contain(?:ing|s)?|search(?: for)?)\s*"
        r"(.+?)(?:的通话|的电话|的会话|\?|？|$)",
        question,
        re.I,
    )
    return match.group(1).strip() if match else question


def _level(question: str) -> str | None:
    if re.search(r"支行|sub-?branch", question, re.I):
        return "sub_branch"
    if re.search(r"分行|网点|机构|branch", question, re.I):
        return "branch"
    if re.search(r"团队|小组|哪个组|哪些组|teams?\b", question, re.I):
        return "team"
    if re.search(r"坐席|座席|员工|客服|理财经理|agents?\b|reps?\b", question, re.I):
        return "agent"
    return None


def plan(question: str, last_subject: Subject | None = None, last_intent: Intent | None = None) -> Plan:
    """The analysis a question asks for (zh or en), with its subject; pronoun follow-ups use `last_subject`."""
    q = question.strip()
    lang = language_of(q)
    agents = agent_ids(q)
    scenario = _first(SCENARIO_WORDS, q)
    code_match = _CODE.search(q)
    code = code_match.group(1).upper() if code_match else _first(CODE_WORDS, q)
    metric = _first(METRIC_WORDS, q) or "total"
    branch = _BRANCH.search(q)
    team = _TEAM.search(q)
    intent = next((name for name, pattern in INTENT_WORDS if re.search(pattern, q, re.I)), None)
    follow_up = not agents and bool(_PRONOUN.search(q)) and last_subject is not None and last_subject.kind == "agent"
    agent = agents[0] if agents else (last_subject.id if follow_up and last_subject else None)
    notes: list[str] = []
    if follow_up:
        notes.append(f"follow-up: '{q}' refers to {agent}")

    def make(intent: Intent, subject: Subject, *calls: ToolCall, best_first: bool = False) -> Plan:
        return Plan(
            intent=intent, subject=subject, calls=list(calls), best_first=best_first, language=lang, notes=notes
        )

    rank_level = _level(q) if re.search(_RANK, q, re.I) else None
    best = bool(_BEST.search(q))
    if intent == "golden_scripts":
        concern = _concern(q)
        return make(
            intent,
            Subject(kind="concern", id=concern),
            ToolCall(name="golden_scripts", arguments=_drop_none({"concern": concern, "scenario": scenario})),
        )
    if intent == "customer_needs" and not agent:
        return make(
            intent,
            _scope_subject(scenario),
            ToolCall(name="customer_needs", arguments=_drop_none({"scenario": scenario})),
        )
    if intent == "drivers":
        outcome = "csat" if metric == "csat" else "conversion"
        return make(
            intent,
            _scope_subject(scenario),
            ToolCall(name="drivers", arguments=_drop_none({"outcome": outcome, "scenario": scenario})),
        )
    if intent == "complaint_risk":
        return make(
            intent,
            _scope_subject(scenario),
            ToolCall(name="complaint_risk", arguments=_drop_none({"scenario": scenario})),
        )
    if intent == "search":
        return make(
            intent,
            _scope_subject(scenario),
            ToolCall(
                name="search", arguments=_drop_none({"text": _search_text(q), "agent_id": agent, "scenario": scenario})
            ),
        )
    if intent == "trend":
        subject, arguments = _slice_subject(agent, branch, team, scenario)
        return make(intent, subject, ToolCall(name="trend", arguments=arguments))
    if len(agents) >= 2:
        return make(
            "compare_agents",
            Subject(kind="agent", id=",".join(agents)),
            ToolCall(
                name="compare",
                arguments={"level": "agent", "metric": metric, "keys": agents, **_code_args(metric, code)},
            ),
        )
    if agent and _TEAM_COMPARE.search(q):
        return make(
            "agent_vs_team",
            Subject(kind="agent", id=agent),
            ToolCall(name="agent_profile", arguments={"agent_id": agent}),
        )
    if rank_level and not agent:
        intent_of_level: dict[str, Intent] = {
            "agent": "rank_agents",
            "team": "rank_teams",
            "branch": "rank_branches",
            "sub_branch": "rank_branches",
        }
        metric_used = "fail_rate" if code else metric
        return make(
            intent_of_level[rank_level],
            _scope_subject(scenario),
            ToolCall(
                name="compare",
                arguments=_drop_none(
                    {"level": rank_level, "metric": metric_used, "scenario": scenario, **_code_args(metric_used, code)}
                ),
            ),
            best_first=best and metric_used != "fail_rate",
        )
    if (
        re.search(r"违规|问题|规则|扣分|失分|violation|rules?\b|issues|problems|mistakes", q, re.I)
        and re.search(r"最常见|最多|最频繁|主要|top|most|common|main|frequent", q, re.I)
        and not re.search(r"为什么|why", q, re.I)
    ):
        subject, arguments = _slice_subject(agent, branch, team, scenario)
        return make("rank_rules", subject, ToolCall(name="rank_rules", arguments=arguments))
    if agent:
        return make(
            "agent_diagnosis",
            Subject(kind="agent", id=agent),
            ToolCall(name="agent_profile", arguments={"agent_id": agent}),
        )
    if branch or team:
        subject, arguments = _slice_subject(None, branch, team, scenario)
        return make("rank_rules", subject, ToolCall(name="rank_rules", arguments=arguments))
    notes.append("question type not recognised: showing the most frequent failures in your scope")
    return make(
        "overview", _scope_subject(scenario), ToolCall(name="rank_rules", arguments=_drop_none({"scenario": scenario}))
    )


def _drop_none(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if v is not None}


def _code_args(metric: str, code: str | None) -> dict[str, Any]:
    if metric != "fail_rate":
        return {}
    return {"code": code} if code else {"dimension": "compliance"}


def _scope_subject(scenario: str | None) -> Subject:
    return Subject(kind="scenario", id=scenario) if scenario else Subject(kind="scope")


def _slice_subject(
    agent: str | None, branch: re.Match[str] | None, team: re.Match[str] | None, scenario: str | None
) -> tuple[Subject, dict[str, Any]]:
    if agent:
        return Subject(kind="agent", id=agent), _drop_none({"agent_id": agent, "scenario": scenario})
    if branch:
        name = branch.group(1)
        level = "sub_branch" if name.endswith("支行") else "branch"
        return Subject(kind=level, id=name), _drop_none({level: name, "scenario": scenario})
    if team:
        name = team.group(1)
        return Subject(kind="team", id=name), _drop_none({"team": name, "scenario": scenario})
    return _scope_subject(scenario), _drop_none({"scenario": scenario})
