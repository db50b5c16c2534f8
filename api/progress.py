"""Progress bars on stderr (stdout stays clean for JSON), redrawn by the caller's updates (at most ten times a
second) rather than by a thread of their own: a batch forks its helper processes while a bar is shown
(`api.batch`), and a forked child must not inherit a thread that may hold the console's lock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_REDRAW_SECONDS = 0.1


@contextmanager
def progress_bar(console: Console, description: str, *, disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """Yields `update(done, total)`; the bar disappears when done."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=disable,
        transient=True,
        auto_refresh=False,
    ) as progress:
        task = progress.add_task(description, total=None)
        drawn = [0.0]

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - drawn[0] >= _REDRAW_SECONDS:
                drawn[0] = now
                progress.refresh()

        yield update
