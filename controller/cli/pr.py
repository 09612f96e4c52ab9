"""`octi-tanium pr-comment --body-file FILE [--pr N]`: post the plan on a pull request, as one
comment kept up to date (`controller.github`). Exit 0 created, updated or already up to date;
1 an error (settings, body, GitHub's refusal), whose text never holds the token."""

from __future__ import annotations

import asyncio
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
def pr_comment(body_file: Path, pr: int | None) -> None:
    """Create or update the one plan comment of a pull request (GITHUB_TOKEN,
    GITHUB_REPOSITORY, GITHUB_API_URL)."""
    from controller.github import post_plan_comment

    result = asyncio.run(post_plan_comment(body_file, pr))
    click.echo(result.describe())
