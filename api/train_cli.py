"""CLI commands of the train feature; `register(app)` adds them to the `zhijian` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the main CLI."""
