"""The `zhijian` command line: evaluate transcripts, run the demo, inspect rule packs."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer import _click as click  # Typer's own copy of click: its groups and contexts are these classes
from typer.core import TyperGroup

from api.options import settings_from_options
from api.progress import progress_bar
from api.render import console, evaluation_panel, summary_table
from core.errors import InputError, ZhijianError
from core.models import Conversation, Role
from core.settings import Settings
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from tools.accuracy import CodeCounts

if TYPE_CHECKING:  # the evaluation stack is imported by the commands that use it, so `zhijian rules` starts fast
    from api.batch import Item, Outcome

# Commands defined in other modules, imported only when one of them runs (or `--help` lists them): the coach,
# insight, knowledge-base and server modules pull in LangGraph, numpy and more, which `zhijian rules` must not pay for.
# Each module either has `register(app)` (feature CLIs) or is named with the Typer group or function it exports.
COMMANDS_ELSEWHERE: dict[str, tuple[str, str]] = {
    "kb": ("api.kb_cli", "kb"),
    "admin": ("api.admin_cli", "admin"),
    "privacy": ("api.privacy_cli", "privacy"),
    "serve": ("api.admin_cli", "serve"),
    "train": ("api.train_cli", "register"),
    "ask": ("api.insight_cli", "register"),
    "report": ("api.insight_cli", "register"),
    "demo-org": ("api.insight_cli", "register"),
    "coach": ("api.coach_cli", "register"),
}


def _command_elsewhere(name: str) -> click.Command | None:
    """The click command `name` from the module that defines it (imported now)."""
    module_name, attribute = COMMANDS_ELSEWHERE[name]
    exported = getattr(importlib.import_module(module_name), attribute)
    holder = typer.Typer()
    if attribute == "register":
        exported(holder)
    elif isinstance(exported, typer.Typer):
        holder.add_typer(exported, name=name)
    else:
        holder.command(name)(exported)
    return typer.main.get_group(holder).commands.get(name)


class LazyCommands(TyperGroup):
    """The main group: this module's commands, then those of `COMMANDS_ELSEWHERE`, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return own + [name for name in COMMANDS_ELSEWHERE if name not in own]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS_ELSEWHERE:
            command = _command_elsewhere(cmd_name)
            if command is not None:
                self.commands[cmd_name] = command
        return command


app = typer.Typer(
    help="智检 Zhijian — quality management for financial contact centres.", no_args_is_help=True, cls=LazyCommands
)
out = console()
err = console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


# Exit codes: 1 = some records were rejected (the rest evaluated); 2 = nothing could run (bad option, setup).
EXIT_REJECTED = 1
EXIT_FAILED = 2


def _settings(data_dir: Path | None, rule_pack: Path | None, database_url: str | None) -> Settings:
    return settings_from_options(data_dir, database_url, rule_pack)


@dataclass
class BatchSummary:
    """What a batch did, kept small whatever its size: counts, rows for the closing table, rejections."""

    evaluated: int = 0
    rejected: int = 0
    rows: list[Outcome] = field(default_factory=list)


def _transcriber_for(settings: Settings, on_error: Callable[[InputError], None]) -> Callable[[Path], Item | None]:
    """Transcribes recordings on first need (the model loads once); a recording is fingerprinted by its bytes."""
    loaded: list[Any] = []

    def transcribe(path: Path) -> Item | None:
        from agents.qm.intake import recording_hash
        from graphs.wiring import build_transcriber
        from tools.asr import AudioError, recording_to_conversation

        if not loaded:
            loaded.append(build_transcriber(settings))
        try:
            conversation = recording_to_conversation(
                path,
                loaded[0],
                agent_channel=settings.asr_agent_channel,
                max_seconds=settings.asr_max_seconds,
            )
        except AudioError as exc:
            on_error(InputError(str(exc).removeprefix(f"{path}: "), source=str(path)))
            return None
        return conversation, recording_hash(path.read_bytes(), {"id": conversation.id, "tenant": conversation.tenant})

    return transcribe


def run_batch(
    paths: list[Path],
    settings: Settings,
    *,
    dry_run: bool,
    citations: bool,
    on_outcome: Callable[[Outcome], None],
    quiet: bool = False,
    keep_rows: bool = True,
) -> BatchSummary:
    """Stream every path through the evaluator; each result goes to `on_outcome` as soon as it is ready,
    bad records are reported on stderr (their file, line and field; never their content) and skipped."""
    from api.batch import BatchSetup, evaluate_stream, read_conversations
    from graphs.wiring import build_judge, citation_table, open_store
    from knowledge.rulepacks import load_scorecard

    summary = BatchSummary()

    def reject(error: InputError) -> None:
        summary.rejected += 1
        err.print(f"[red]✗ {error}[/red]", soft_wrap=True)

    card = load_scorecard(settings.rule_pack)
    table = None
    if citations:
        with progress_bar(err, "法规条款 resolving regulation clauses", disable=quiet) as update:
            table = citation_table(settings, card, progress=update)
    judge = None
    store = None
    if settings.llm_provider != "none":  # the LLM tier runs in this process; its verdicts are cached in the store
        store = None if dry_run else open_store(settings)
        judge = build_judge(settings, cache=store)
    items = read_conversations(paths, settings, reject, transcribe=_transcriber_for(settings, reject))
    setup = BatchSetup(settings, table, dry_run)  # each evaluating process builds its context from this
    try:
        with progress_bar(err, "质检中 evaluating", disable=quiet) as update:
            for outcome in evaluate_stream(items, setup, store=store, judge=judge):
                summary.evaluated += 1
                if keep_rows:
                    summary.rows.append(outcome)
                on_outcome(outcome)
                update(summary.evaluated, 0)
    finally:
        if judge is not None:
            judge.close()
    return summary


@app.command()
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files (.json, .jsonl, .txt), recordings or folders.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, json for pipelines.")
    ] = OutputFormat.TABLE,
    rule_pack: Annotated[Path | None, typer.Option(help="Rule pack YAML (default: the packaged retail pack).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded databases live.")] = None,
    database_url: Annotated[
        str | None, typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://…")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Evaluate without storing anything.")] = False,
    citations: Annotated[
        bool, typer.Option(help="Attach regulation clauses to compliance findings (indexes the corpus once).")
    ] = True,
    details: Annotated[bool, typer.Option(help="With table output, show each conversation's findings.")] = True,
) -> None:
    """Evaluate conversations; JSON lines are written as each finishes. Bad records are reported on stderr and
    skipped (exit 1), the rest evaluated; exit 2 when nothing could run."""
    as_json = output_format is OutputFormat.JSON

    def emit(outcome: Outcome) -> None:
        if as_json:
            sys.stdout.write(outcome.json_line + "\n")
            sys.stdout.flush()
        elif details:
            out.print(evaluation_panel(*outcome.evaluation()))

    from api.admin_cli import check_database_url

    try:
        settings = _settings(data_dir, rule_pack, database_url)
        check_database_url(settings.resolved_database_url, settings.data_dir)
        batch = run_batch(
            paths,
            settings,
            dry_run=dry_run,
            citations=citations and settings.citations,
            on_outcome=emit,
            quiet=as_json,
            keep_rows=not as_json,
        )
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None
    if batch.rows:
        out.print(summary_table(batch.rows))
    err.print(f"{batch.evaluated} evaluated, {batch.rejected} rejected")
    if batch.rejected or not batch.evaluated:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def demo(
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default .zhijian).")] = None,
) -> None:
    """Evaluate the bundled sample corpus and compare the findings with its expected category codes.

    The demo's evaluations go to a fresh database under <data dir>/demo; the regulation index is kept
    between runs (built on first use)."""
    base = _settings(data_dir, None, None)
    demo_dir = base.data_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    settings = base.model_copy(
        update={
            "database_url": f"sqlite:///{demo_dir / 'zhijian.db'}",
            "checkpoint_path": demo_dir / "checkpoints.db",
        }
    )
    out.rule("智检 Zhijian demo — 样例语料质检")
    shown = [0]

    def show(outcome: Outcome) -> None:
        shown[0] += 1
        out.print(evaluation_panel(*outcome.evaluation(), label=f"{shown[0]}. "))

    try:
        batch = run_batch(
            [SAMPLE_CONVERSATIONS], settings, dry_run=False, citations=settings.citations, on_outcome=show
        )
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None
    out.print(summary_table(batch.rows))
    expected = load_expected_codes()
    counts = CodeCounts()
    for row in batch.rows:
        counts.add(expected.get(row.conversation_id, set()), set(row.codes))
    out.print(counts.table("与标注对比（规则层 + 小模型层，未启用大模型）"))
    tickets = sum(row.tickets for row in batch.rows)
    from api import insight_cli

    out.print(
        f"{batch.evaluated} conversations evaluated, {tickets} tickets opened; "
        f"stored in {settings.resolved_database_url}",
        soft_wrap=True,
    )
    insight_cli.demo_section(settings, out)
    if batch.rejected:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def transcribe(
    recording: Annotated[Path, typer.Argument(help="A call recording: wav, mp3, m4a, flac, ogg.")],
    language: Annotated[str | None, typer.Option(help="zh, en, … (default from settings; 'auto' detects).")] = None,
    agent_channel: Annotated[str | None, typer.Option(help="Stereo: which channel is the agent (left/right).")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """Transcribe a recording into a diarised transcript with times and voice metrics."""
    overrides: dict[str, Any] = {}
    if language is not None:
        overrides["asr_language"] = None if language == "auto" else language
    if agent_channel is not None:
        overrides["asr_agent_channel"] = agent_channel
    settings = Settings(**overrides)
    from graphs.wiring import build_transcriber
    from tools.asr import recording_to_conversation

    try:
        transcriber = build_transcriber(settings)
        conversation = recording_to_conversation(
            recording, transcriber, agent_channel=settings.asr_agent_channel, max_seconds=settings.asr_max_seconds
        )
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if output_format is OutputFormat.JSON:
        sys.stdout.write(conversation.model_dump_json() + "\n")
        return
    for turn in conversation.turns:
        who = "坐席" if turn.role.value == "agent" else "客户"
        out.print(f"[{turn.start:7.2f}–{turn.end:7.2f}] {who}：{turn.text}", soft_wrap=True)
    for note in conversation.notes:
        out.print(f"[dim]{note}[/dim]", soft_wrap=True)
    if conversation.voice is not None:
        v = conversation.voice
        out.print(
            f"talk agent {v.talk_s[Role.AGENT]:.1f} s / customer {v.talk_s[Role.CUSTOMER]:.1f} s "
            f"(ratio {v.talk_listen_ratio}); "
            f"silence {v.silence_s:.1f} s (longest {v.longest_silence_s:.1f} s); overtalk {v.overtalk_s:.1f} s; "
            f"speech rate {v.speech_rate_cpm}",
            soft_wrap=True,
        )


@app.command()
def rules(
    rule_pack: Annotated[Path | None, typer.Option(help="Rule pack YAML (default: the packaged retail pack).")] = None,
    verify: Annotated[
        bool, typer.Option(help="Run every rule's examples; exit 1 when one reaches another verdict.")
    ] = True,
) -> None:
    """List the rules of a rule pack, validating it and running its examples."""
    from rich.table import Table

    from knowledge.rulepacks import load_scorecard, verify_examples

    settings = _settings(None, rule_pack, None)
    try:
        card = load_scorecard(settings.rule_pack)
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    table = Table(title=f"{card.name} {card.version} — {len(card.rules)} rules")
    for header in ("id", "code", "name", "dimension", "check", "deduction", "severity", "scenarios"):
        table.add_column(header)
    for r in card.rules:
        table.add_row(
            r.id,
            r.code,
            r.name,
            r.effective_dimension.value,
            r.check.type,
            f"{r.deduction:g}",
            r.severity.value + (" · auto-fail" if r.auto_fail else ""),
            ",".join(r.scenarios) or "all",
        )
    out.print(table)
    if verify:
        wrong = verify_examples(card)
        for message in wrong:
            err.print(f"[red]✗ {message}[/red]", soft_wrap=True)
        examples = sum(len(r.examples) for r in card.rules)
        err.print(f"{examples - len(wrong)} of {examples} rule examples reach their expected verdict")
        if wrong:
            raise typer.Exit(EXIT_REJECTED)


@app.command()
def schema() -> None:
    """Print the JSON Schema of an input conversation."""
    sys.stdout.write(json.dumps(Conversation.model_json_schema(), ensure_ascii=False, indent=2) + "\n")
