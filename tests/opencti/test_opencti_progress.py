"""Progress reporting while fetching (the CLI draws a rich bar on a TTY)."""

from __future__ import annotations

import io
import json

from octi_sandbox.opencti import DEMO_SEED
from rich.console import Console

from controller.cli.progress import fetch_progress
from controller.policy.loader import PolicySet

from .conftest import InProcess


def test_progress_is_reported_per_page(emulator: InProcess, everything: PolicySet) -> None:
    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))
    calls: list[tuple[str, int, int | None]] = []
    emulator.fetch(everything, page_size=25, progress=lambda *a: calls.append(a))
    indicators = [c for c in calls if c[0] == "indicators"]
    assert indicators == [
        ("indicators", 0, None),
        ("indicators", 25, 62),
        ("indicators", 50, 62),
        ("indicators", 62, 62),
    ]
    assert ("observables", 20, 20) in calls


def test_the_rich_progress_draws_on_a_terminal_only(
    emulator: InProcess, everything: PolicySet
) -> None:
    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))
    quiet = io.StringIO()
    with fetch_progress(Console(file=quiet, force_terminal=False)) as progress:
        emulator.fetch(everything, progress=progress)
    assert quiet.getvalue() == ""
    drawn = io.StringIO()
    with fetch_progress(Console(file=drawn, force_terminal=True, width=100)) as progress:
        emulator.fetch(everything, progress=progress)
    assert "OpenCTI" in drawn.getvalue() and "indicators" in drawn.getvalue()
