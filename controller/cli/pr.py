"""`octi-tanium pr-comment --body-file FILE [--pr N]`: post the plan on a pull request, as one
comment kept up to date (`controller.github`). Exit 0 created, updated or already up to date;
1 an error (settings, body, GitHub's refusal), whose text never holds the token."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import click


@click.command("pr-comment")
@click.option(
    "--body-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The comment (UTF-8 Markdown), e.g. the output of `plan --format markdown`.",
)
@click.option(
    "--pr",
    type=int,
    default=None,
    help="The pull request number (default: from GITHUB_EVENT_PATH).",
)
@click.option(
    "--marker",
    default="plan",
    show_default=True,
    help="Which comment: one per marker name (`plan`; `apply` for the result of an apply).",
)
def pr_comment(body_file: Path, pr: int | None, marker: str) -> None:
    """Create or update the one plan comment of a pull request (GITHUB_TOKEN,
    GITHUB_REPOSITORY, GITHUB_API_URL)."""
    from controller.github import post_plan_comment

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", marker):
        raise click.BadParameter(
            "lower-case letters, digits and '-' (e.g. plan)", param_hint="--marker"
        )
    tag = f"<!-- octi-tanium:{marker} -->"
    result = asyncio.run(post_plan_comment(body_file, pr, marker=tag))
    click.echo(result.describe())
