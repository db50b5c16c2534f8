"""`zhijian kb …`: index and search the regulation corpus."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.progress import progress_bar
from api.render import console
from core.errors import ZhijianError
from core.settings import Settings
from graphs.wiring import open_regulation_index
from tools.regulation_query import RegulationFilter, SearchMode

if TYPE_CHECKING:
    from tools.regulations import RegulationIndex

kb = typer.Typer(help="The regulation knowledge base (Qdrant).", no_args_is_help=True)
out = console()
err = console(stderr=True)


def _open(settings: Settings) -> RegulationIndex:
    """The index (ingesting the corpus on first use), or one line saying why not and exit 2."""
    try:
        with progress_bar(err, "法规入库 indexing regulations") as update:
            return open_regulation_index(settings, progress=update)[0]
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


def _settings(corpus: Path | None, data_dir: Path | None) -> Settings:
    overrides: dict[str, object] = {}
    if corpus is not None:
        overrides["regulations_dir"] = corpus
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)  # type: ignore[arg-type]


@kb.command("ingest")
def ingest(
    corpus: Annotated[
        Path | None, typer.Argument(help="Folder of regulation Markdown files (default: packaged).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded Qdrant lives.")] = None,
) -> None:
    """Index the corpus: new or changed articles are embedded, removed ones deleted, unchanged ones kept."""
    settings = _settings(corpus, data_dir)
    try:
        with progress_bar(err, "法规入库 indexing regulations") as update:
            index, report = open_regulation_index(settings, progress=update)
    except ZhijianError as exc:
        err.print(f"[red]error: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None
    out.print(
        f"{index.collection}: {report.chunks} chunks — {report.embedded} embedded, {report.unchanged} unchanged, "
        f"{report.removed} removed ({report.seconds:g} s)",
        soft_wrap=True,
    )


@kb.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to find, e.g. 承诺保本收益.")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many clauses.")] = 5,
    mode: Annotated[SearchMode, typer.Option(help="dense, sparse or hybrid.")] = SearchMode.HYBRID,
    regulation: Annotated[list[str] | None, typer.Option(help="Only this regulation (short name); repeatable.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Only texts bearing on this scenario.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the embedded Qdrant lives.")] = None,
) -> None:
    """Search the regulations; prints the best clauses with their ids."""
    settings = _settings(None, data_dir)
    index = _open(settings)
    hits = index.search(query, k=k, mode=mode, filters=RegulationFilter(regulations=regulation, scenario=scenario))
    table = Table(title=f"“{query}” — {mode.value}")
    for header in ("#", "clause id", "regulation", "article", "text", "score"):
        table.add_column(header, overflow="fold")
    for rank, c in enumerate(hits, start=1):
        table.add_row(str(rank), c.clause_id, c.title, c.article, c.text[:120], f"{c.score:.3f}" if c.score else "")
    out.print(table)
