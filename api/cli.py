"""The `zhijian` command line: evaluate transcripts, run the demo, inspect rule packs."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api import coach_cli, insight_cli, train_cli
from api.admin_cli import admin, serve
from api.kb_cli import kb
from api.progress import progress_bar
from api.render import console, evaluation_panel, summary_table
from core.errors import InputError, ZhijianError
from core.models import Conversation, Evaluation, Ticket
from core.settings import Settings
from core.store import Store
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import (
    build_judge,
    build_qm_context,
    build_transcriber,
    open_regulation_index,
    open_sqlite_checkpointer,
)
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from tools.accuracy import CodeCounts
from tools.asr import AUDIO_SUFFIXES, AudioError, recording_to_conversation
from tools.transcripts import expand_paths, read_path

app = typer.Typer(help="智检 Zhijian — quality management for financial contact centres.", no_args_is_help=True)
app.add_typer(kb, name="kb")
app.add_typer(admin, name="admin")
app.command()(serve)
for _feature in (train_cli, insight_cli, coach_cli):
    _feature.register(app)
out = console()
err = console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@dataclass
class BatchResult:
    evaluated: list[tuple[Conversation, Evaluation, list[Ticket]]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def _settings(data_dir: Path | None, rule_pack: Path | None, database_url: str | None) -> Settings:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if rule_pack is not None:
        overrides["rule_pack"] = rule_pack
    if database_url is not None:
        overrides["database_url"] = database_url
    return Settings(**overrides)


def _read_all(
    paths: list[Path], settings: Settings, *, quiet: bool = False
) -> tuple[list[Conversation], list[InputError]]:
    conversations: list[Conversation] = []
    errors: list[InputError] = []
    recordings: list[Path] = []
    for item in expand_paths(paths, also=frozenset(AUDIO_SUFFIXES)):
        if isinstance(item, InputError):
            errors.append(item)
        elif item.suffix.lower() in AUDIO_SUFFIXES:
            recordings.append(item)
        else:
            for parsed in read_path(item, max_bytes=settings.max_file_bytes):
                if isinstance(parsed, InputError):
                    errors.append(parsed)
                else:
                    conversations.append(parsed)
    if recordings:
        conversations += _transcribe_all(recordings, settings, errors, quiet=quiet)
    too_long = [c for c in conversations if len(c.turns) > settings.max_turns]
    for c in too_long:
        errors.append(
            InputError(
                f"conversation {c.id!r} has {len(c.turns)} turns, "
                f"over the limit of {settings.max_turns} (ZHIJIAN_MAX_TURNS)"
            )
        )
    return [c for c in conversations if len(c.turns) <= settings.max_turns], errors


def _transcribe_all(
    recordings: list[Path], settings: Settings, errors: list[InputError], *, quiet: bool
) -> list[Conversation]:
    """Recordings → conversations; a recording that cannot be transcribed is reported and skipped."""
    transcriber = build_transcriber(settings)
    out = []
    with progress_bar(err, "转写中 transcribing", disable=quiet) as update:
        for done, path in enumerate(recordings, start=1):
            try:
                out.append(
                    recording_to_conversation(
                        path,
                        transcriber,
                        agent_channel=settings.asr_agent_channel,
                        max_seconds=settings.asr_max_seconds,
                    )
                )
            except AudioError as exc:
                errors.append(InputError(str(exc).removeprefix(f"{path}: "), source=str(path)))
            update(done, len(recordings))
    return out


def run_batch(
    paths: list[Path], settings: Settings, *, dry_run: bool, citations: bool, quiet: bool = False
) -> BatchResult:
    """Read every path, evaluate every good conversation, collect the bad ones with their reasons."""
    conversations, errors = _read_all(paths, settings, quiet=quiet)
    for e in errors:
        err.print(f"[red]✗ {e}[/red]", soft_wrap=True)
    result = BatchResult(errors=errors)
    if not conversations:
        return result
    regulations = None
    if citations:
        with progress_bar(err, "法规入库 indexing regulations (first use)", disable=quiet) as update:
            regulations, _ = open_regulation_index(settings, progress=update)
    store = None if dry_run else Store.from_url(settings.resolved_database_url)
    judge = build_judge(settings, cache=store)
    context = build_qm_context(settings, store=store, regulations=regulations, judge=judge)
    checkpointer = None if dry_run else open_sqlite_checkpointer(settings.resolved_checkpoint_path)
    graph = build_graph(checkpointer=checkpointer)
    with progress_bar(err, "质检中 evaluating", disable=quiet) as update:
        for done, conversation in enumerate(conversations, start=1):
            output = evaluate_conversation(graph, context, conversation)
            result.evaluated.append((conversation, output["evaluation"], output.get("tickets", [])))
            update(done, len(conversations))
    if judge is not None:
        judge.close()
    return result


def evaluation_json(evaluation: Evaluation, tickets: list[Ticket]) -> str:
    """The public JSON line for pipelines: the evaluation plus `conversation_id`-keyed tickets."""
    payload = evaluation.model_dump(mode="json")
    payload["tickets"] = [t.model_dump(mode="json") for t in tickets]
    return json.dumps(payload, ensure_ascii=False)


@app.command()
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files (.json, .jsonl, .txt) or folders.")],
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
    """Evaluate conversations; bad records are reported on stderr and skipped (exit 1), the rest evaluated."""
    try:
        settings = _settings(data_dir, rule_pack, database_url)
        batch = run_batch(
            paths,
            settings,
            dry_run=dry_run,
            citations=citations and settings.citations,
            quiet=output_format is OutputFormat.JSON,
        )
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    if output_format is OutputFormat.JSON:
        for _, evaluation, tickets in batch.evaluated:
            sys.stdout.write(evaluation_json(evaluation, tickets) + "\n")
    else:
        if details:
            for _, evaluation, tickets in batch.evaluated:
                out.print(evaluation_panel(evaluation, tickets))
        if batch.evaluated:
            out.print(summary_table([(e, t) for _, e, t in batch.evaluated]))
    err.print(f"{len(batch.evaluated)} evaluated, {len(batch.errors)} rejected")
    if batch.errors:
        raise typer.Exit(1)


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
    try:
        batch = run_batch([SAMPLE_CONVERSATIONS], settings, dry_run=False, citations=settings.citations)
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    for index, (_, evaluation, tickets) in enumerate(batch.evaluated, start=1):
        out.print(evaluation_panel(evaluation, tickets, label=f"{index}/{len(batch.evaluated)} "))
    out.print(summary_table([(e, t) for _, e, t in batch.evaluated]))
    expected = load_expected_codes()
    counts = CodeCounts()
    for conversation, evaluation, _ in batch.evaluated:
        counts.add(expected.get(conversation.id, set()), {f.code for f in evaluation.failed})
    out.print(counts.table("与标注对比（规则层，未启用大模型）"))
    tickets = sum(len(t) for _, _, t in batch.evaluated)
    out.print(
        f"{len(batch.evaluated)} conversations evaluated, {tickets} tickets opened; "
        f"stored in {settings.resolved_database_url}",
        soft_wrap=True,
    )
    if batch.errors:
        raise typer.Exit(1)


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
            f"talk agent {v.talk_s['agent']:.1f} s / customer {v.talk_s['customer']:.1f} s "
            f"(ratio {v.talk_listen_ratio}); "
            f"silence {v.silence_s:.1f} s (longest {v.longest_silence_s:.1f} s); overtalk {v.overtalk_s:.1f} s; "
            f"speech rate {v.speech_rate_cpm}",
            soft_wrap=True,
        )


@app.command()
def rules(
    rule_pack: Annotated[Path | None, typer.Option(help="Rule pack YAML (default: the packaged retail pack).")] = None,
) -> None:
    """List the rules of a rule pack (validating it)."""
    from rich.table import Table

    from knowledge.rulepacks import load_scorecard

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


@app.command()
def schema() -> None:
    """Print the JSON Schema of an input conversation."""
    sys.stdout.write(json.dumps(Conversation.model_json_schema(), ensure_ascii=False, indent=2) + "\n")
