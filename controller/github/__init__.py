"""Posting the plan on a GitHub pull request: one comment, found by a hidden marker, kept
up to date (`octi-tanium pr-comment`).

`post_plan_comment(body_file, pr)` is the whole command without the command line;
`upsert_comment(settings, pr, body)` the library call; `load_github(pr)` the settings.
Errors: `controller.github.errors` (all subclasses of `GitHubError`).
"""

from controller.github.client import GitHubClient
from controller.github.comment import (
    MARKER,
    MAX_BODY_CHARS,
    CommentAction,
    CommentResult,
    post_plan_comment,
    upsert_comment,
)
from controller.github.errors import (
    CommentBodyError,
    GitHubAPIError,
    GitHubError,
    GitHubSettingsError,
)
from controller.github.settings import GitHubSettings, load_github

__all__ = [
    "MARKER",
    "MAX_BODY_CHARS",
    "CommentAction",
    "CommentBodyError",
    "CommentResult",
    "GitHubAPIError",
    "GitHubClient",
    "GitHubError",
    "GitHubSettings",
    "GitHubSettingsError",
    "load_github",
    "post_plan_comment",
    "upsert_comment",
]
