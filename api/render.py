"""Rich terminal rendering of evaluations for people (the JSON form is for pipelines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from core.models import Dimension, Evaluation, Finding, RiskLevel, Ticket, Verdict

RISK_STYLE = {
    RiskLevel.NONE: "green",
    RiskLevel.LOW: "cyan",
    RiskLevel.MEDIUM: "yellow",
    RiskLevel.HIGH: "red",
    RiskLevel.CRITICAL: "bold white on red",
}
ROLE_ZH = {"agent": "坐席", "customer": "客户", "system": "系统"}


def _time(start: float | None, end: float | None) -> str:
    if start is None:
        return ""
    return f"{start:6.1f}s" + (f"–{end:.1f}s" if end is not None else "")


def _short(text: str, limit: int = 90) -> str:
    flat = text.replace("\n", " ")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _finding(f: Finding) -> Group:
    head = Text()
    if f.verdict is Verdict.FAIL:
        head.append(f" {f.code} ", style="bold white on red" if f.severity.rank >= 2 else "bold black on yellow")
    else:
        head.append(f" {f.code} ", style="bold black on bright_black")
    head.append(f" {f.rule_name}", style="bold")
    head.append(f"  [{f.rule_id} · {f.verdict.value} · {f.severity.value} · 置信度 {f.confidence:.2f}")
    head.append(f" · 扣 {f.deduction:g} 分" if f.deduction else "")
    head.append(" · 需复核" if f.needs_review else "")
    head.append(f" · 被 {f.suppressed_by} 覆盖" if f.suppressed_by else "")
    head.append("]")
    lines = [head, Text(f"    {f.explanation}", style="dim")]
    for e in f.evidence:
        line = Text("    ")
        line.append(f"#{e.turn:<3}", style="cyan")
        line.append(f"{ROLE_ZH[e.role.value]} ", style="magenta")
        line.append(f"{_time(e.start, e.end):<15}", style="dim")
        line.append(f"“{e.quote}”")
        lines.append(line)
    for c in f.citations:
        how = "" if c.source == "rule" else "（检索）"
        lines.append(Text(f"    依据{how}：《{c.title}》{c.article}：{_short(c.text)}", style="blue"))
    cited = {c.clause_id for c in f.citations}
    if missing := [ref for ref in f.regulation_refs if ref not in cited]:
        lines.append(Text(f"    依据：{'；'.join(missing)}", style="blue"))
    return Group(*lines)


def evaluation_panel(evaluation: Evaluation, tickets: list[Ticket], *, label: str = "") -> Panel:
    """One conversation: the four dimension scores, total, risk, findings with evidence, and tickets."""
    scores = Table.grid(padding=(0, 2))
    for _ in Dimension:
        scores.add_column()
    scores.add_column()
    scores.add_column()
    scores.add_row(
        *(f"{d.label_zh} {evaluation.scores[d]:g}" for d in Dimension),
        Text(f"总分 {evaluation.total:g}" + ("（一票否决）" if evaluation.auto_failed else ""), style="bold"),
        Text(f"风险 {evaluation.risk_level.value}", style=RISK_STYLE[evaluation.risk_level]),
    )
    parts: list[Table | Text | Group] = [scores]
    shown = [f for f in evaluation.findings if f.verdict in (Verdict.FAIL, Verdict.NOT_EVALUATED)]
    failed = [f for f in shown if f.verdict is Verdict.FAIL]
    parts.append(Text(f"违规 {len(failed)} 项" + ("，需人工复核" if evaluation.needs_review else ""), style="bold"))
    parts.extend(_finding(f) for f in failed)
    for note in evaluation.notes:
        parts.append(Text(f"注：{note}", style="dim italic"))
    for t in tickets:
        parts.append(Text(f"工单 {t.id}：{t.title}，截止 {t.due_at:%Y-%m-%d}", style="bold magenta"))
    title = f"{label}{evaluation.conversation_id} · 坐席 {evaluation.agent_id or '-'}"
    return Panel(Group(*parts), title=title, title_align="left", border_style=RISK_STYLE[evaluation.risk_level])


class SummaryRow(Protocol):
    """What the closing table needs of one evaluated conversation."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def scores(self) -> dict[Dimension, float]: ...
    @property
    def total(self) -> float: ...
    @property
    def risk_level(self) -> RiskLevel: ...
    @property
    def codes(self) -> tuple[str, ...]: ...
    @property
    def tickets(self) -> int: ...


def summary_table(rows: Sequence[SummaryRow]) -> Table:
    table = Table(title="质检汇总", show_lines=False)
    for header in ("会话", "坐席", *(d.label_zh for d in Dimension), "总分", "风险", "违规类别", "工单"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row.conversation_id,
            row.agent_id or "-",
            *(f"{row.scores[d]:g}" for d in Dimension),
            f"{row.total:g}",
            Text(row.risk_level.value, style=RISK_STYLE[row.risk_level]),
            " ".join(row.codes),
            str(row.tickets),
        )
    return table


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)
