"""CLI commands of the insight feature: `zhijian ask`, `zhijian report agent|team|demand`, `zhijian demo-org`;
`demo_section()` is what `zhijian demo` shows after its evaluations."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from agents.insight.answer import InsightAnswer
from api.options import settings_from_options
from core.access import AccessRole, Principal
from core.errors import ZhijianError
from core.llm import build_chat_model
from core.settings import Settings
from core.store import Store
from graphs.insight import build_graph, build_insight_context, build_toolkit
from graphs.supervisor import ask_insight as ask_graph
from graphs.wiring import open_sqlite_checkpointer
from knowledge.demo_org import PLANTED_AGENT, TENANT
from knowledge.demo_org.loader import load_demo_org
from tools.insight.errors import SubjectNotFound
from tools.insight.report_html import agent_html, demand_html, team_html
from tools.insight.reports import agent_report, demand_report, team_report

report_app = typer.Typer(help="Agent, team and customer-demand reports (JSON or self-contained HTML).")
DEMO_QUESTION = "为什么17号坐席表现不好？"


class AnswerFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class ReportFormat(StrEnum):
    JSON = "json"
    HTML = "html"


DataDir = Annotated[Path | None, typer.Option(help="Where the embedded databases live.")]
Database = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://…")]
Tenant = Annotated[str | None, typer.Option(help="Tenant to analyse (default: the configured default tenant).")]


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    return settings_from_options(data_dir, database_url)


def _principal(settings: Settings, tenant: str | None) -> Principal:
    """The local operator: the whole tenant (the CLI runs on the server with its database)."""
    return Principal(subject="cli", tenant=tenant or settings.default_tenant, role=AccessRole.ADMIN)


def answer_question(settings: Settings, question: str, *, tenant: str | None, thread: str | None) -> InsightAnswer:
    """Answer with the configured model (or the planner), thread memory in the checkpoint database."""
    store = Store.from_url(settings.resolved_database_url)
    checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
    try:
        context = build_insight_context(settings, store, _principal(settings, tenant), model=build_chat_model(settings))
        return ask_graph(build_graph(checkpointer=checkpointer), context, question, thread=thread)
    finally:
        checkpointer.conn.close()
        store.engine.dispose()


def answer_panel(answer: InsightAnswer) -> Panel:
    """An answer for people: the text, then notes and which tools ran."""
    body = answer.answer
    if answer.notes:
        body += "\n\n" + "\n".join(f"· {n}" for n in answer.notes)
    tools = ", ".join(t.name for t in answer.tools) or "—"
    return Panel(body, title=f"[bold]{answer.question}[/bold]", subtitle=f"{answer.intent} · tools: {tools}")


def ask(
    question: Annotated[str, typer.Argument(help='e.g. "为什么17号坐席表现不好？"')],
    thread: Annotated[str | None, typer.Option(help="Thread id: follow-up questions remember the subject.")] = None,
    tenant: Tenant = None,
    output_format: Annotated[AnswerFormat, typer.Option("--format", "-f")] = AnswerFormat.TABLE,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """Ask about agents, teams, branches or customers; answers state numbers with baseline and n, causes and
    evidence."""
    try:
        answer = answer_question(_settings(data_dir, database_url), question, tenant=tenant, thread=thread)
    except ZhijianError as exc:
        Console(stderr=True).print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if output_format is AnswerFormat.JSON:
        sys.stdout.write(answer.model_dump_json() + "\n")
    else:
        Console().print(answer_panel(answer))


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text, encoding="utf-8")
        Console(stderr=True).print(f"wrote {out}")


def _report(kind: str, subject: str | None, settings: Settings, tenant: str | None, fmt: ReportFormat) -> str:
    store = Store.from_url(settings.resolved_database_url)
    try:
        toolkit = build_toolkit(settings, store)
        principal = _principal(settings, tenant)
        if kind == "agent" and subject:
            agent_data = agent_report(store, principal, subject, toolkit.catalog)
            return agent_html(agent_data) if fmt is ReportFormat.HTML else agent_data.model_dump_json(indent=1)
        if kind == "team" and subject:
            team_data = team_report(store, principal, subject, toolkit.catalog)
            return team_html(team_data) if fmt is ReportFormat.HTML else team_data.model_dump_json(indent=1)
        demand_data = demand_report(store, principal, toolkit.encoder, scenario=subject)
        return demand_html(demand_data) if fmt is ReportFormat.HTML else demand_data.model_dump_json(indent=1)
    finally:
        store.engine.dispose()


def _run_report(
    kind: str,
    subject: str | None,
    data_dir: Path | None,
    db: str | None,
    tenant: str | None,
    fmt: ReportFormat,
    out: Path | None,
) -> None:
    try:
        _write(_report(kind, subject, _settings(data_dir, db), tenant, fmt), out)
    except (SubjectNotFound, ZhijianError) as exc:
        Console(stderr=True).print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


FormatOption = Annotated[ReportFormat, typer.Option("--format", "-f")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")]


@report_app.command("agent")
def report_agent(
    agent_id: str,
    tenant: Tenant = None,
    output_format: FormatOption = ReportFormat.JSON,
    out: OutOption = None,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """One agent against the rest of their team: dimensions, fail rates per rule, weekly trend, causes, evidence."""
    _run_report("agent", agent_id, data_dir, database_url, tenant, output_format, out)


@report_app.command("team")
def report_team(
    team: str,
    tenant: Tenant = None,
    output_format: FormatOption = ReportFormat.JSON,
    out: OutOption = None,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """A team's agents side by side, fail rates against the whole tenant, weekly trend."""
    _run_report("team", team, data_dir, database_url, tenant, output_format, out)


@report_app.command("demand")
def report_demand(
    scenario: Annotated[str | None, typer.Option(help="Only calls of this scenario.")] = None,
    tenant: Tenant = None,
    output_format: FormatOption = ReportFormat.JSON,
    out: OutOption = None,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """Topics of customers' stated needs (sizes per scenario, quotes) and calls at complaint risk."""
    _run_report("demand", scenario, data_dir, database_url, tenant, output_format, out)


def demo_org(data_dir: DataDir = None, database_url: Database = None) -> None:
    """Load the demo organisation (tenant demo-bank: 360 calls, 15 agents, 3 branches, 5 weeks) into the store."""
    report = load_demo_org(_settings(data_dir, database_url), console=Console(stderr=True))
    Console().print(report.model_dump_json(indent=1))


def demo_section(settings: Settings, console: Console) -> None:
    """The demo organisation loaded and evaluated, then the insight agent's diagnosis of the planted agent."""
    report = load_demo_org(settings, console=console)
    console.print(
        f"演示机构 demo organisation: {report.conversations} calls, {report.agents} agents, "
        f"{report.branches} branches, {report.weeks} weeks (tenant {report.tenant}; "
        f"{report.evaluated} newly evaluated, {report.reused} reused)"
    )
    answer = answer_question(settings, DEMO_QUESTION, tenant=TENANT, thread=None)
    console.print(answer_panel(answer))
    planted = ", ".join(report.planted_agent_codes)
    console.print(
        f"[dim]planted: {PLANTED_AGENT} ignores stated needs ({planted}); "
        f"{report.mis_selling_branch} mis-sells ({', '.join(report.mis_selling_codes)})[/dim]"
    )


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the main CLI."""
    app.command("ask")(ask)
    app.add_typer(report_app, name="report")
    app.command("demo-org")(demo_org)
