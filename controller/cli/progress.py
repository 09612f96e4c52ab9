"""The terminal side of the driver's `Progress`: rich spinners and bars on stderr, shown only
on a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
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
