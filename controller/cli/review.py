"""What the Markdown rendering needs from the command line: the `--title`, `--max-chars` and
`--artifact` options of `plan` and `show`, with GitHub Actions' defaults (GITHUB_SHA; the run's
page, where the workflow uploads the full plan)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from controller.core.plan import Plan
from controller.errors import UserError
from controller.policy.loader import LoadResult
from controller.report import render_markdown
from controller.report.budget import DEFAULT_LIMIT

F = TypeVar("F", bound=Callable[..., object])

MIN_CHARS = 2_000


def markdown_options(command: F) -> F:
    """`--title`, `--max-chars`, `--artifact` (they only shape `--format markdown`)."""
    for option in reversed(
        [
            click.option(
                "--title",
                default=None,
                help="Markdown: the commit or change the plan is for (default: GITHUB_SHA).",
            ),
            click.option(
                "--max-chars",
                type=click.IntRange(min=MIN_CHARS),
                default=DEFAULT_LIMIT,
                show_default=True,
                help="Markdown: never longer than this; details are cut, counts and errors kept.",
            ),
            click.option(
                "--artifact",
                default=None,
                help="Markdown: where the full plan is, named when details are cut "
                "(default in GitHub Actions: the run's page).",
            ),
        ]
    ):
        command = option(command)
    return command


def markdown(plan: Plan, title: str | None, max_chars: int, artifact: str | None) -> str:
    env = os.environ
    if title is None and env.get("GITHUB_SHA"):
        title = env["GITHUB_SHA"][:12]
    if artifact is None and all(
        env.get(v) for v in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    ):
        artifact = (
            f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/"
            f"{env['GITHUB_RUN_ID']} (artifact `plan`)"
        )
    return render_markdown(plan, title=title, limit=max_chars, artifact=artifact)


def check_writable(out: Path | None, option: str = "--out") -> None:
    """Fail before any work when `out` cannot be written: a missing folder, or a folder."""
    if out is None:
        return
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(
            f"{option} {out}: the folder {folder} does not exist; create it first "
            f"(mkdir -p {folder})"
        )
    if out.is_dir():
        raise UserError(f"{option} {out} is a folder: name a file, e.g. {out / 'plan.json'}")
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} {out}: the folder {folder} is not writable")


async def with_unused(result: LoadResult, source: str, now: datetime) -> LoadResult:
    """`validate --source`: `result` with a warning for each policy selecting nothing there."""
    from controller.core.unused import unused_policies
    from controller.reconcile import SourceSpec, fetch_source

    snapshot = await fetch_source(SourceSpec.parse(source), result.policies, now=now)
    unused = unused_policies(result.policies, snapshot, now=now)
    return replace(result, diagnostics=(*result.diagnostics, *unused))
