"""Scripted practising agents: a good one that answers each concern as the rules require, and a bad one."""

from __future__ import annotations

from graphs.coach import SessionView

GOOD = {
    "opening": "您好，我是安和银行理财经理小王，很高兴为您服务。请问您这笔钱大概什么时候要用，能接受多大的波动？",
    "liquidity_need": "理解您的情况，您几个月后就要用钱，封闭期和定开产品都不适合您，"
    "建议放在随时可以取的活期理财或者通知存款，这类产品风险等级R1，不保本但波动很小，中途支取没有损失。",
    "low_risk_tolerance": "明白，您不能接受亏损，那高风险产品都不适合您，"
    "建议选择存款或者R1低风险产品，本金安全更有保障。",
    "asks_guarantee": "这款产品不保本，收益不确定，有亏损的可能，过往业绩不代表未来表现，"
    "请您根据自己的风险承受能力决定。",
    "upset_customer": "非常抱歉给您带来不便，我理解您的心情，我马上帮您登记处理，今天下午五点前给您回电。",
    "closing": "好的，感谢您的耐心，如有需要随时联系我，祝您生活愉快，再见。",
}
BAD = {
    "opening": "嗯，说吧。",
    "liquidity_need": "没问题的，我给您推荐这款九个月封闭的定开产品，R4等级，收益比活期高多了。",
    "low_risk_tolerance": "那我给您推荐这款R4的偏股混合型基金，收益高。",
    "asks_guarantee": "您放心，这款产品保本保收益，稳赚不赔。",
    "upset_customer": "这个不归我管，您自己去网点问吧。",
    "closing": "嗯。",
}


def reply_to(view: SessionView, script: dict[str, str]) -> str:
    """The scripted answer to the customer's waiting line (by what the persona meant to do with it)."""
    last = view.transcript[-1]
    if last.intent is not None and last.intent.value in ("objection", "press") and last.objection in script:
        text = script[last.objection]
    else:
        text = script.get(last.intent.value if last.intent else "opening", script["opening"])
    # Never the very same words twice: a real agent rephrases, and the transcript stays realistic.
    said = sum(1 for t in view.transcript if t.role == "agent" and t.text.startswith(text[:12]))
    return text if not said else f"{'我再说明一下，' * said}{text}"


def run_session(sessions: object, view: SessionView, script: dict[str, str], *, max_replies: int = 12) -> SessionView:
    """Reply until the customer ends the call (or max_replies), then end the session."""
    from graphs.coach import PracticeSessions

    assert isinstance(sessions, PracticeSessions)
    for _ in range(max_replies):
        if view.status != "active":
            break
        view = sessions.say(view.session_id, reply_to(view, script))
    return sessions.end(view.session_id)
