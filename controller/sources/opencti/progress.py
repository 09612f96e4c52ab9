"""A ready-made `progress` callback for `fetch_snapshot`: a rich progress bar on a TTY.

```python
with fetch_progress() as progress:
    snapshot = await fetch_snapshot(settings, policies, now=now, progress=progress)
```

Off a terminal (CI, pipes) it prints nothing; the bars are transient on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

ProgressCallback = Callable[[str, int, int | None], None]


def _quiet(label: str, fetched: int, total: int | None) -> None:
    return None


@contextmanager
def fetch_progress(
    console: Console | None = None, *, force: bool = False
) -> Iterator[ProgressCallback]:
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
