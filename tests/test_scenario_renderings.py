"""Golden text, Markdown and JSON of representative plans, produced by running scenario
folders through the pure pipeline (not hand-built): a small plan of creates, a plan whose
deletes a guard blocks, a plan with skipped objects. The plan of 20,000 changes with errors
has its golden Markdown in tests/unit/test_markdown_review.py. Regenerate deliberately:
`UPDATE_GOLDEN=1 pytest tests/test_scenario_renderings.py`, then read the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from controller.core.plan import Plan, to_json
from controller.report import render_markdown, render_text_plain
from tests.test_scenarios import CASES, scenario_plan

GOLDEN = Path(__file__).parent / "golden" / "scenarios"
REPRESENTATIVE = (
    "new-objects-are-created",
    "incomplete-source-withholds-deletes",
    "exclusion-deletes-and-explains",
)
RENDERINGS: dict[str, Callable[[Plan], str]] = {
    "txt": render_text_plain,
    "md": lambda plan: render_markdown(plan, title="0123456789ab"),
    "json": to_json,
}


def matches_golden(path: Path, text: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} changed: UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("name", REPRESENTATIVE)
@pytest.mark.parametrize("ext", sorted(RENDERINGS))
def test_scenario_rendering_matches_golden(name: str, ext: str) -> None:
    case = next(c for c in CASES if c.name == name)
    plan = scenario_plan(case)
    text = RENDERINGS[ext](plan)
    assert RENDERINGS[ext](scenario_plan(case)) == text  # byte-deterministic
    matches_golden(GOLDEN / f"{name}.{ext}", text)
