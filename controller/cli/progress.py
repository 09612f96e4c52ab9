"""The terminal side of the driver's `Progress`: rich spinners and bars on stderr, shown only
on a terminal; and `fetch_progress`, a ready-made `progress` callback for `fetch_snapshot`.

```python
with fetch_progress() as progress:
    snapshot = await fetch_snapshot(settings, policies, now=now, progress=progress)
```
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from controller.reconcile import Counter


def progress_bar(stream_is_tty: bool | None = None) -> Progress:
    tty = sys.stderr.isatty() if stream_is_tty is None else stream_is_tty
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not tty,
        transient=True,
    )


class TerminalProgress:
    """Renders the driver's progress: a spinner per long step, a bar per counted one."""

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        if not sys.stderr.isatty():
            yield
            return
        with Console(stderr=True).status(message):
            yield

    @contextlib.contextmanager
    def counters(self) -> Iterator[Counter]:
        with progress_bar() as bar:
            tasks: dict[str, TaskID] = {}

            def report(label: str, done: int, total: int | None) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done, total=total)

            yield report


def _quiet(label: str, fetched: int, total: int | None) -> None:
    return None


@contextmanager
def fetch_progress(console: Console | None = None, *, force: bool = False) -> Iterator[Counter]:
    """Yield a `progress(label, fetched, total)` callback drawing one bar per listing."""
    console = console or Console(stderr=True)
    if not (console.is_terminal or force):
        yield _quiet
        return
    columns = (
        SpinnerColumn(),
        TextColumn("OpenCTI [bold]{task.description}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(label: str, fetched: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total)
            bars.update(tasks[label], completed=fetched, total=total)

        yield update
