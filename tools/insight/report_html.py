"""Reports as self-contained HTML pages with plotly charts (plotly.js inlined once, so they work offline)."""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from tools.insight.reports import AgentReport, DemandReport, TeamReport

_STYLE = """
body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#1f2933}
h1{font-size:22px} h2{font-size:17px;margin-top:28px} table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #d0d7de;padding:4px 8px;font-size:13px;text-align:left} .small{color:#8a6d3b}
.meta{color:#52606d;font-size:13px}
"""
DIMENSIONS = [
    ("total", "总分"),
    ("compliance", "合规"),
    ("attitude", "服务态度"),
    ("competence", "业务能力"),
    ("experience", "客户体验"),
]


def _figure_html(figure: go.Figure, first: bool) -> str:
    figure.update_layout(height=360, margin={"l": 40, "r": 20, "t": 50, "b": 80}, template="plotly_white")
    return str(figure.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False}))


def _page(title: str, meta: str, sections: list[str]) -> str:
    return (
        f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p>'
        + "".join(sections)
        + "</body></html>"
    )


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def agent_html(report: AgentReport) -> str:
    """Agent vs team per dimension, fail rate per rule vs team, weekly trend, causes and evidence."""
    p = report.profile
    team = p.team_scores
    dims = go.Figure(
        [
            go.Bar(name=p.agent_id, x=[z for _, z in DIMENSIONS], y=[getattr(p.scores, d) for d, _ in DIMENSIONS]),
            go.Bar(
                name="团队其他人 team (others)",
                x=[z for _, z in DIMENSIONS],
                y=[getattr(team, d) if team else None for d, _ in DIMENSIONS],
            ),
        ],
        layout={"title": f"维度得分 Dimension scores (n={p.scores.n} vs {team.n if team else 0})", "barmode": "group"},
    )
    team_rates = {r.rule_id: r for r in p.team_rule_rates}
    rules = p.rule_rates[:12]
    fails = go.Figure(
        [
            go.Bar(name=p.agent_id, x=[r.rule_id for r in rules], y=[_pct(r.rate) for r in rules]),
            go.Bar(
                name="团队 team",
                x=[r.rule_id for r in rules],
                y=[_pct(team_rates[r.rule_id].rate) if r.rule_id in team_rates else 0 for r in rules],
            ),
        ],
        layout={"title": "各规则失败率 Fail rate per rule (%)", "barmode": "group"},
    )
    trend = go.Figure(
        [
            go.Scatter(
                name="总分 total", x=[w.week for w in p.trend], y=[w.total for w in p.trend], mode="lines+markers"
            ),
            go.Scatter(
                name="转化率 conversion %",
                x=[w.week for w in p.trend],
                y=[_pct(w.conversion) for w in p.trend],
                mode="lines+markers",
                yaxis="y2",
            ),
        ],
        layout={"title": "每周趋势 Weekly trend", "yaxis2": {"overlaying": "y", "side": "right"}},
    )
    facts = _table(
        ["指标 metric", p.agent_id, "n", "基准 baseline", "基准 n", ""],
        [[f.metric, f.value, f.n, f.baseline, f.baseline_n, "样本过少 small n" if f.small_n else ""] for f in p.facts],
    )
    causes = _table(
        ["代码 code", "规则 rule", "失败率 rate", "基准 baseline", "n", "基准 n"],
        [[c.code, c.rule_name or c.rule_id, _pct(c.rate), _pct(c.baseline), c.n, c.baseline_n] for c in p.causes],
    )
    evidence = _table(
        ["会话 call", "轮次 turn", "引文 quote", "原因 why"],
        [[e.conversation_id, e.turn, e.quote, e.why] for e in p.evidence],
    )
    return _page(
        report.title,
        f"{p.branch or ''} / {p.team or ''} · {report.generated_at:%Y-%m-%d %H:%M} UTC",
        [
            "<h2>关键指标 Key figures</h2>" + facts,
            _figure_html(dims, True),
            _figure_html(fails, False),
            _figure_html(trend, False),
            "<h2>可能原因 Likely causes</h2>" + causes,
            "<h2>证据 Evidence</h2>" + evidence,
        ],
    )


def team_html(report: TeamReport) -> str:
    """Agents of the team side by side, fail rates vs the whole scope, weekly trend."""
    rows = report.agents.rows
    agents = go.Figure(
        [
            go.Bar(name="总分 total", x=[r.key for r in rows], y=[r.total for r in rows]),
            go.Bar(name="转化率 conversion %", x=[r.key for r in rows], y=[_pct(r.conversion) for r in rows]),
        ],
        layout={"title": "坐席对比 Agents", "barmode": "group"},
    )
    scope = {r.rule_id: r for r in report.scope_rule_rates}
    fails = go.Figure(
        [
            go.Bar(
                name=report.team, x=[r.rule_id for r in report.rule_rates], y=[_pct(r.rate) for r in report.rule_rates]
            ),
            go.Bar(
                name="全部范围 scope",
                x=[r.rule_id for r in report.rule_rates],
                y=[_pct(scope[r.rule_id].rate) if r.rule_id in scope else None for r in report.rule_rates],
            ),
        ],
        layout={"title": "各规则失败率 Fail rate per rule (%)", "barmode": "group"},
    )
    trend = go.Figure(
        [
            go.Scatter(
                name="总分 total",
                x=[w.week for w in report.trend],
                y=[w.total for w in report.trend],
                mode="lines+markers",
            )
        ],
        layout={"title": "每周趋势 Weekly trend"},
    )
    table = _table(
        ["坐席 agent", "n", "总分 total", "合规", "转化率 %", "转化 n", "满意度 CSAT", "CSAT n"],
        [[r.key, r.n, r.total, r.compliance, _pct(r.conversion), r.conversion_n, r.csat, r.csat_n] for r in rows],
    )
    return _page(
        report.title,
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC",
        [table, _figure_html(agents, True), _figure_html(fails, False), _figure_html(trend, False)],
    )


def demand_html(report: DemandReport) -> str:
    """Topic sizes by scenario, topic examples, and the calls at complaint risk."""
    topics = report.needs.topics
    scenarios = sorted({s for t in topics for s in t.by_scenario})
    sizes = go.Figure(
        [go.Bar(name=s, x=[t.label for t in topics], y=[t.by_scenario.get(s, 0) for t in topics]) for s in scenarios],
        layout={"title": f"客户需求主题 Topics of stated needs ({report.needs.turns} turns)", "barmode": "stack"},
    )
    examples = _table(
        ["主题 topic", "发言 turns", "通话 calls", "示例 example"],
        [
            [
                t.label,
                t.turns,
                t.conversations,
                " / ".join(f"{e.conversation_id}#{e.turn} {e.quote}" for e in t.examples),
            ]
            for t in topics
        ],
    )
    risk = _table(
        ["会话 call", "坐席 agent", "分行 branch", "代码 codes", "CSAT", "引文 quote"],
        [[c.conversation_id, c.agent_id, c.branch, ",".join(c.codes), c.csat, c.quote] for c in report.complaint_risk],
    )
    return _page(
        report.title,
        f"encoder {report.needs.encoder} · {report.generated_at:%Y-%m-%d %H:%M} UTC",
        [_figure_html(sizes, True), "<h2>主题示例 Topics</h2>" + examples, "<h2>投诉风险 Complaint risk</h2>" + risk],
    )
