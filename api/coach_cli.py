"""CLI commands of the coach feature: `zhijian coach start|say|end|practice`; `register(app)` adds them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer

from api.options import settings_from_options
from api.render import console
from core.access import AccessRole, Principal
from core.errors import ZhijianError
from core.settings import Settings
from core.store import ConversationRow, Store
from graphs.coach import PracticeSessions, SessionView, build_coach_context, build_graph
from graphs.supervisor import SupervisedSessions
from graphs.wiring import open_sqlite_checkpointer
from tools.coaching.models import AgentOrg
from tools.coaching.weakness import agent_org, weakness_profile

coach = typer.Typer(help="Practice sessions: a customer built from an agent's weak rules, scored turn by turn.")
out = console()
err = console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(help="Where the embedded databases live.")]
Database = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://…")]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for scripts.")]


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    return settings_from_options(data_dir, database_url)


@contextmanager
def _sessions(data_dir: Path | None, database_url: str | None) -> Iterator[tuple[Store, SupervisedSessions]]:
    settings = _settings(data_dir, database_url)
    store = Store.from_url(settings.resolved_database_url)
    checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
    context = build_coach_context(settings, store)
    try:
        yield store, SupervisedSessions(PracticeSessions(build_graph(checkpointer=checkpointer), context))
    finally:
        if context.judge is not None:
            context.judge.close()
        checkpointer.conn.close()
        store.engine.dispose()


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
    return typer.Exit(2)


def _operator_agent(store: Store, agent_id: str, tenant: str | None) -> tuple[Principal, AgentOrg]:
    """The CLI runs as a local operator (like `evaluate`): the agent's tenant from the store unless given."""
    from sqlalchemy import select

    if tenant is None:
        with store.session() as s:
            tenants = sorted(set(s.scalars(select(ConversationRow.tenant).where(ConversationRow.agent_id == agent_id))))
        if len(tenants) != 1:
            found = ", ".join(tenants) or "none"
            raise ZhijianError(f"agent {agent_id} has evaluated calls in tenants: {found}; pass --tenant")
        tenant = tenants[0]
    operator = Principal(subject="cli", tenant=tenant, role=AccessRole.ADMIN)
    org = agent_org(store, operator, agent_id) or AgentOrg(tenant=tenant, agent_id=agent_id)
    return operator, org


def _print_start(view: SessionView) -> None:
    scenario = view.scenario
    persona = scenario.persona
    out.print(f"[bold]练习 session {view.session_id}[/bold] · agent {view.agent_id} · {scenario.business_scenario}")
    out.print(
        f"客户 persona: {persona.age} 岁 {persona.occupation}，风险承受 {persona.risk_tolerance}，"
        f"用钱需求 {persona.liquidity_need}，情绪 {persona.mood.value} · 难度 {scenario.difficulty.value}",
        soft_wrap=True,
    )
    out.print(f"目标 goal: {scenario.goal}", soft_wrap=True)
    out.print(f"目标规则 target rules: {', '.join(scenario.target_rules)} ({scenario.rationale})", soft_wrap=True)


def _print_turn(view: SessionView) -> None:
    if view.feedback:
        fb = view.feedback[-1]
        mark = "[green]✓[/green]" if fb.passed else "[red]✗[/red]"
        out.print(f"{mark} {fb.hint}", soft_wrap=True)
        for f in fb.findings:
            quotes = " / ".join(e.quote for e in f.evidence)
            out.print(f"   {f.code} {f.rule_id} {f.rule_name}: {quotes}", soft_wrap=True)
        if fb.model_answer is not None:
            ma = fb.model_answer
            out.print(f"   示范 model answer ({ma.conversation_id} turn {ma.turn}): {ma.quote}", soft_wrap=True)
        out.print(f"   练习得分 so far: {fb.total:g}", soft_wrap=True)
    if view.customer is not None:
        out.print(f"[bold cyan]客户：[/bold cyan]{view.customer}", soft_wrap=True)
    elif view.status == "ended":
        out.print("客户已结束对话 (the customer has ended the call): `zhijian coach end` for the debrief")


def _print_debrief(view: SessionView) -> None:
    result = view.debrief
    if result is None:
        return
    out.print(f"[bold]复盘 debrief[/bold] · total {result.total:g}" + (" (auto-fail)" if result.auto_failed else ""))
    out.print("  " + " · ".join(f"{d.label_zh} {v:g}" for d, v in result.scores.items()))
    for t in result.targets:
        mark = "[green]pass[/green]" if t.passed else f"[red]{t.verdict.value}[/red]"
        quotes = " / ".join(e.quote for e in t.evidence) if not t.passed else ""
        out.print(f"  {mark} {t.code} {t.rule_id} {t.rule_name} {quotes}", soft_wrap=True)
    if result.previous_total is not None:
        out.print(
            f"  上次 previous total {result.previous_total:g}; improved: {', '.join(result.improved_rules) or '—'}"
        )
    nxt = result.next_scenario
    out.print(f"  下次 next: {', '.join(nxt.rules)} ({nxt.difficulty.value}) — {nxt.reason}", soft_wrap=True)
    for note in result.notes:
        out.print(f"  [dim]{note}[/dim]", soft_wrap=True)


def _emit_json(view: SessionView) -> None:
    sys.stdout.write(json.dumps(view.model_dump(mode="json"), ensure_ascii=False) + "\n")


def start(
    agent: Annotated[str, typer.Option("--agent", help="The agent who practises.")],
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Train this rule (repeatable).")] = None,
    code: Annotated[list[str] | None, typer.Option("--code", help="Train this category code (repeatable).")] = None,
    tenant: Annotated[str | None, typer.Option(help="The agent's tenant (default: from their calls).")] = None,
    language: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    output_format: Format = OutputFormat.TABLE,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """Start a session: prints its id, the scenario and the customer's first line."""
    lang: Literal["zh", "en"] = "en" if language == "en" else "zh"
    try:
        with _sessions(data_dir, database_url) as (store, sessions):
            operator, org = _operator_agent(store, agent, tenant)
            profile = weakness_profile(store, operator, org, sessions.context.scorecard)
            view = sessions.start(
                agent=org, profile=profile, started_by="cli", rules=rule or [], codes=code or [], language=lang
            )
    except ZhijianError as exc:
        raise _fail(exc) from None
    if output_format is OutputFormat.JSON:
        _emit_json(view)
        return
    _print_start(view)
    _print_turn(view)


def say(
    session: Annotated[str, typer.Argument(help="The session id.")],
    reply: Annotated[str, typer.Argument(help="The agent's reply.")],
    output_format: Format = OutputFormat.TABLE,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """Reply as the agent: feedback on the reply and the customer's next line."""
    if not reply.strip():
        raise _fail(ValueError("the reply is empty"))
    try:
        with _sessions(data_dir, database_url) as (_, sessions):
            view = sessions.say(session, reply)
    except ZhijianError as exc:
        raise _fail(exc) from None
    if output_format is OutputFormat.JSON:
        _emit_json(view)
        return
    _print_turn(view)


def end(
    session: Annotated[str, typer.Argument(help="The session id.")],
    output_format: Format = OutputFormat.TABLE,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """End a session and print its debrief."""
    try:
        with _sessions(data_dir, database_url) as (_, sessions):
            view = sessions.end(session)
    except ZhijianError as exc:
        raise _fail(exc) from None
    if output_format is OutputFormat.JSON:
        _emit_json(view)
        return
    _print_debrief(view)


def practice(
    agent: Annotated[str, typer.Option("--agent", help="The agent who practises.")],
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Train this rule (repeatable).")] = None,
    code: Annotated[list[str] | None, typer.Option("--code", help="Train this category code (repeatable).")] = None,
    tenant: Annotated[str | None, typer.Option(help="The agent's tenant (default: from their calls).")] = None,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """An interactive session in the terminal (an empty line or /end finishes it)."""
    try:
        with _sessions(data_dir, database_url) as (store, sessions):
            operator, org = _operator_agent(store, agent, tenant)
            profile = weakness_profile(store, operator, org, sessions.context.scorecard)
            view = sessions.start(agent=org, profile=profile, started_by="cli", rules=rule or [], codes=code or [])
            _print_start(view)
            _print_turn(view)
            while view.status == "active":
                reply = typer.prompt("坐席", default="", show_default=False).strip()
                if not reply or reply == "/end":
                    break
                view = sessions.say(view.session_id, reply)
                _print_turn(view)
            _print_debrief(sessions.end(view.session_id))
    except ZhijianError as exc:
        raise _fail(exc) from None


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the main CLI."""
    coach.command("start")(start)
    coach.command("say")(say)
    coach.command("end")(end)
    coach.command("practice")(practice)
    app.add_typer(coach, name="coach")
