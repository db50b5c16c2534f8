"""Compose an answer from tool results: numbers with their baseline and n, likely causes, evidence quotes.
Every number in the text is taken from a tool result (rates shown as percentages of the returned value)."""

from __future__ import annotations

from typing import Any

from agents.insight.answer import AnswerCause, AnswerEvidence, AnswerFact, InsightAnswer, ToolUse
from agents.insight.planner import Plan, ToolCall

ToolResult = tuple[ToolCall, dict[str, Any] | None, str | None]  # call, result, error

METRIC_ZH = {
    "total": "总分",
    "compliance": "合规",
    "attitude": "服务态度",
    "competence": "业务能力",
    "experience": "客户体验",
    "conversion": "转化率",
    "csat": "满意度",
    "fail_rate": "违规率",
}
RATES = {"conversion", "fail_rate"}


def pct(value: float | None) -> str:
    """A rate as a percentage ("25%"), or "—"."""
    if value is None:
        return "—"
    shown = round(value * 100, 1)
    return f"{shown:g}%"


def show(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    return pct(value) if metric in RATES else f"{value:g}"


def _label(metric: str, zh: bool) -> str:
    return METRIC_ZH.get(metric, metric) if zh else metric


def structured(results: list[ToolResult]) -> tuple[list[AnswerFact], list[AnswerCause], list[AnswerEvidence]]:
    """Facts, causes and evidence found in tool results (the same for the planner and the LLM path)."""
    facts: list[AnswerFact] = []
    causes: list[AnswerCause] = []
    evidence: list[AnswerEvidence] = []
    for call, result, _ in results:
        if result is None:
            continue
        if call.name == "agent_profile":
            facts += [AnswerFact.model_validate(f) for f in result["facts"]]
            causes += [AnswerCause.model_validate(c) for c in result["causes"]]
            evidence += [AnswerEvidence.model_validate(e) for e in result["evidence"]]
        elif call.name == "compare":
            metric, overall = result["metric"], result["overall"]
            for row in result["rows"]:
                facts.append(
                    AnswerFact(
                        metric=metric,
                        scope=f"{result['level']}:{row['key']}",
                        value=row[metric],
                        baseline=overall[metric],
                        baseline_scope="scope",
                        n=_n(metric, row),
                        baseline_n=_n(metric, overall),
                        small_n=row["small_n"],
                    )
                )
        elif call.name == "rank_rules":
            for rule in result["rules"]:
                facts.append(
                    AnswerFact(
                        metric=f"fail_rate:{rule['rule_id']}", scope=result["slice"], value=rule["rate"], n=rule["n"]
                    )
                )
        elif call.name == "trend":
            for week in result["weeks"]:
                facts.append(
                    AnswerFact(metric=f"total:{week['week']}", scope=result["slice"], value=week["total"], n=week["n"])
                )
        elif call.name == "drivers":
            for d in result["drivers"]:
                facts.append(
                    AnswerFact(
                        metric=f"{d['outcome']}|{d['code']}",
                        scope="calls failing the code",
                        value=d["with_fail"],
                        baseline=d["without_fail"],
                        baseline_scope="calls not failing it",
                        n=d["n_with"],
                        baseline_n=d["n_without"],
                        small_n=d["small_n"],
                    )
                )
        elif call.name == "customer_needs":
            for topic in result["topics"]:
                facts.append(
                    AnswerFact(
                        metric=f"topic_turns:{topic['label']}",
                        scope="scope",
                        value=topic["turns"],
                        n=topic["conversations"],
                    )
                )
                evidence += [
                    AnswerEvidence(
                        conversation_id=e["conversation_id"],
                        turn=e["turn"],
                        quote=e["quote"],
                        why=f"topic {topic['label']}",
                    )
                    for e in topic["examples"][:1]
                ]
        elif call.name == "golden_scripts":
            for key, converted in (("converted", True), ("unconverted", False)):
                for e in result[key][:2]:
                    evidence.append(
                        AnswerEvidence(
                            conversation_id=e["conversation_id"],
                            turn=e["reply_turn"],
                            quote=e["reply"],
                            why=f"reply to '{result['concern']}' ({'converted' if converted else 'unconverted'} call)",
                        )
                    )
        elif call.name == "complaint_risk":
            evidence += [
                AnswerEvidence(
                    conversation_id=c["conversation_id"], turn=c["turn"], quote=c["quote"], why=",".join(c["codes"])
                )
                for c in result["calls"][:5]
                if c["quote"] is not None and c["turn"] is not None
            ]
        elif call.name == "search":
            evidence += [
                AnswerEvidence(conversation_id=h["conversation_id"], turn=h["turn"], quote=h["quote"], why="search hit")
                for h in result["hits"][:10]
            ]
    return facts, causes, evidence


def _n(metric: str, row: dict[str, Any]) -> int:
    if metric == "conversion":
        return int(row["conversion_n"])
    if metric == "csat":
        return int(row["csat_n"])
    return int(row["n"])


def render(plan: Plan, results: list[ToolResult]) -> str:
    """The answer text for the planner's question type, in the question's language."""
    zh = plan.language == "zh"
    lines: list[str] = []
    for call, result, error in results:
        if result is None:
            lines.append(f"无法回答：{error}" if zh else f"Cannot answer: {error}")
            continue
        lines += _RENDERERS[call.name](result, plan, zh)
    return "\n".join(lines)


def _profile(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    agent, facts = result["agent_id"], {f["metric"]: f for f in result["facts"]}
    where = "/".join(x for x in (result["branch"], result["team"]) if x)
    base = facts["total"]["baseline_scope"] or "scope"
    lines = []
    if zh:
        lines.append(f"坐席{agent}（{where}）共{facts['total']['n']}通已评估通话，对比基准为{base}：")
    else:
        lines.append(f"Agent {agent} ({where}): {facts['total']['n']} evaluated calls, compared with {base}:")
    order = ["conversion", "csat", "total", "compliance", "attitude", "competence", "experience"]
    if plan.intent == "agent_vs_team":
        order = ["total", "compliance", "attitude", "competence", "experience", "conversion", "csat"]
    for metric in order:
        f = facts[metric]
        small = ("（样本过少）" if zh else " (too few to conclude)") if f["small_n"] else ""
        lines.append(
            f"- {_label(metric, zh)}: {show(metric, f['value'])} (n={f['n']}) vs "
            f"{show(metric, f['baseline'])} (n={f['baseline_n'] if f['baseline_n'] is not None else 0}){small}"
        )
    if result["causes"]:
        lines.append(
            "可能原因（失败率高于基准的规则）：" if zh else "Likely causes (rules failed more often than the baseline):"
        )
        for c in result["causes"]:
            lines.append(
                f"- {c['code']} {c['rule_name'] or c['rule_id']}: {pct(c['rate'])} ({c['fails']}/{c['n']}) vs "
                f"{pct(c['baseline'])} (n={c['baseline_n']})"
                + (("（样本过少）" if zh else " (small n)") if c["small_n"] else "")
            )
    else:
        lines.append("没有明显高于基准的失败规则。" if zh else "No rule fails clearly more often than the baseline.")
    if result["evidence"]:
        lines.append("证据：" if zh else "Evidence:")
        lines += [f"- {e['conversation_id']}#{e['turn']}「{e['quote']}」({e['why']})" for e in result["evidence"]]
    return lines


def _compare(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    metric, rows, overall = result["metric"], list(result["rows"]), result["overall"]
    if plan.best_first:
        rows.reverse()
    what = _label(metric, zh) + (
        f"({result['code'] or result['dimension']})"
        if metric == "fail_rate" and (result["code"] or result["dimension"])
        else ""
    )
    where = (
        f"，场景 {result['scenario']}"
        if zh and result["scenario"]
        else (f", scenario {result['scenario']}" if result["scenario"] else "")
    )
    head = (
        f"按{what}排序{where}（{'最好' if plan.best_first else '最差'}在前）："
        if zh
        else (f"Ranked by {what}{where} ({'best' if plan.best_first else 'worst'} first):")
    )
    lines = [head]
    for row in rows[:10]:
        extra = f" ({row['fails']}/{row['n']})" if metric == "fail_rate" else ""
        small = (" 样本过少" if zh else " small n") if row["small_n"] else ""
        lines.append(f"- {row['key']}: {show(metric, row[metric])}{extra} n={_n(metric, row)}{small}")
    lines.append(
        f"全部范围：{show(metric, overall[metric])} (n={_n(metric, overall)})"
        if zh
        else f"Whole scope: {show(metric, overall[metric])} (n={_n(metric, overall)})"
    )
    return lines


def _rules(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    lines = [f"最常失败的规则（{result['slice']}）：" if zh else f"Most frequently failed rules ({result['slice']}):"]
    lines += [
        f"- {r['code']} {r['rule_name'] or r['rule_id']}: {r['fails']}/{r['n']} ({pct(r['rate'])})"
        for r in result["rules"]
    ]
    if len(lines) == 1:
        lines.append("范围内没有失败的规则。" if zh else "No failed rules in this scope.")
    return lines


def _trend(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    lines = [f"每周趋势（{result['slice']}）：" if zh else f"Weekly trend ({result['slice']}):"]
    for w in result["weeks"]:
        conv = (
            f", {'转化率' if zh else 'conversion'} {pct(w['conversion'])} (n={w['conversion_n']})"
            if w["conversion_n"]
            else ""
        )
        lines.append(f"- {w['week']}: {'总分' if zh else 'total'} {show('total', w['total'])} (n={w['n']}){conv}")
    return lines


def _drivers(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    outcome = result["outcome"]
    lines = [
        f"与{_label(outcome, zh)}相关的失败代码（有该失败 vs 没有，共{result['n']}通）："
        if zh
        else f"Failure codes associated with {outcome} (calls failing it vs not; {result['n']} calls):"
    ]
    if result["note"]:
        lines.append(result["note"])
    for d in result["drivers"]:
        small = ("（样本过少，不宜下结论）" if zh else " (too few to conclude)") if d["small_n"] else ""
        lines.append(
            f"- {d['code']}: {show(outcome, d['with_fail'])} (n={d['n_with']}) vs {show(outcome, d['without_fail'])} "
            f"(n={d['n_without']}), p={d['p_value']}{small}"
        )
    return lines


def _needs(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    lines = [
        f"客户关注的主题（{result['turns']}条客户发言，{result['conversations']}通，编码器 {result['encoder']}）："
        if zh
        else f"Customer topics ({result['turns']} customer turns in {result['conversations']} calls, "
        f"encoder {result['encoder']}):"
    ]
    for t in result["topics"]:
        scenarios = ", ".join(f"{k} {v}" for k, v in list(t["by_scenario"].items())[:3])
        example = t["examples"][0] if t["examples"] else None
        quote = f" 例：{example['conversation_id']}#{example['turn']}「{example['quote']}」" if example else ""
        lines.append(f"- {t['label']}: {t['turns']} turns / {t['conversations']} calls ({scenarios}){quote}")
    return lines


def _golden(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    c = result["concern"]
    lines = [
        f"客户提到“{c}”时坐席的回应：转化通话 {result['n_converted']} 通，未转化 {result['n_unconverted']} 通。"
        if zh
        else f"Agent replies when customers raise '{c}': {result['n_converted']} converted calls, "
        f"{result['n_unconverted']} unconverted."
    ]
    if result["converted_terms"]:
        lines.append(
            ("转化话术的特征词：" if zh else "Terms typical of converted replies: ")
            + "、".join(result["converted_terms"])
        )
        lines.append(
            ("未转化话术的特征词：" if zh else "Terms typical of unconverted replies: ")
            + "、".join(result["unconverted_terms"])
        )
    for key, title in (
        ("converted", "转化" if zh else "converted"),
        ("unconverted", "未转化" if zh else "unconverted"),
    ):
        for e in result[key]:
            lines.append(f"- [{title}] {e['conversation_id']}#{e['reply_turn']} {e['agent_id']}：「{e['reply']}」")
    return lines


def _risk(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    lines = [
        f"投诉风险通话（{len(result['calls'])}通）：" if zh else f"Calls at complaint risk ({len(result['calls'])}):"
    ]
    for c in result["calls"][:10]:
        quote = f"「{c['quote']}」" if c["quote"] else ""
        lines.append(f"- {c['conversation_id']} {c['agent_id']} {','.join(c['codes'])} CSAT={c['csat']} {quote}")
    return lines


def _search(result: dict[str, Any], plan: Plan, zh: bool) -> list[str]:
    lines = [f"找到{len(result['hits'])}处：" if zh else f"{len(result['hits'])} hits:"]
    lines += [f"- {h['conversation_id']}#{h['turn']} {h['role']}：「{h['quote']}」" for h in result["hits"][:10]]
    return lines


_RENDERERS = {
    "agent_profile": _profile,
    "compare": _compare,
    "rank_rules": _rules,
    "trend": _trend,
    "drivers": _drivers,
    "customer_needs": _needs,
    "golden_scripts": _golden,
    "complaint_risk": _risk,
    "search": _search,
}


def compose_answer(question: str, plan: Plan, results: list[ToolResult], thread_id: str | None) -> InsightAnswer:
    """The planner path's answer: text rendered from the tool results plus their facts, causes and evidence."""
    facts, causes, evidence = structured(results)
    return InsightAnswer(
        question=question,
        answer=render(plan, results),
        intent=plan.intent,
        subject=plan.subject,
        facts=facts,
        causes=causes,
        evidence=evidence,
        tools=[ToolUse(name=call.name, arguments=call.arguments, error=error) for call, _, error in results],
        thread_id=thread_id,
        notes=plan.notes,
    )
