"""Keep one plan comment per pull request: find it by its hidden marker, edit it, or create it.

Whose comment is ours: the marker alone is not enough, since anyone can paste it. When the
token can tell who it is (`GET /user` answers: a personal access token, a user's token), only
comments written by that login count. App installation tokens — GitHub Actions' own
`GITHUB_TOKEN` among them — cannot read `/user` (403 "Resource not accessible by integration");
then only comments written by a bot account count (such tokens always write as `<app>[bot]`).
Either way a person's comment is never taken over, even when it carries the marker.

All comments are read, page after page, before deciding. When several of ours carry the marker
(two runs raced), the oldest is edited and the others are reported in `ignored`; a second one is
never created by a run that can see the first. A body equal to the current one is not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from controller.github.client import GitHubClient
from controller.github.errors import CommentBodyError, GitHubAPIError
from controller.github.settings import GitHubSettings, load_github

log = logging.getLogger("controller.github")

MARKER = "<!-- octi-tanium:plan -->"
MAX_BODY_CHARS = 65_536
"""GitHub refuses comment bodies longer than this (HTTP 422)."""


class CommentAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class CommentResult:
    action: CommentAction
    pr: int
    comment_id: int
    url: str
    """The comment's `html_url`."""
    author: str | None
    """Whose marked comments could be ours: the token's login, or None (any bot's)."""
    ignored: tuple[int, ...] = ()
    """Ids of comments carrying the marker that were left alone (a person's, another
    account's, or later duplicates of ours)."""

    def describe(self) -> str:
        """One line for the terminal, e.g. `updated the plan comment on pull request #7: URL`."""
        line = f"{self.action} the plan comment on pull request #{self.pr}: {self.url}"
        if self.action is CommentAction.UNCHANGED:
            line = f"the plan comment on pull request #{self.pr} is up to date: {self.url}"
        if self.ignored:
            ids = ", ".join(str(i) for i in self.ignored)
            line += f" (left alone: comment(s) {ids} carrying the marker)"
        return line


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    login: str
    type: str = "User"


class _Comment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id: int
    body: str | None = None
    html_url: str = ""
    user: _User | None = None  # None: the author's account was deleted


def with_marker(body: str, marker: str = MARKER) -> str:
    """The body as posted: the marker on its first line, unless the body carries it already."""
    return body if marker in body else f"{marker}\n{body}"


def check_body(body: str) -> None:
    """Refuse, before anything is sent, a body GitHub would refuse (empty, too long)."""
    if not body.strip():
        raise CommentBodyError("the comment body is empty: nothing to post")
    if len(body) > MAX_BODY_CHARS:
        raise CommentBodyError(
            f"the comment body is {len(body):,} characters, marker included; GitHub accepts at "
            f"most {MAX_BODY_CHARS:,}: post a shorter rendering (link the full plan as a build "
            "artifact)"
        )


async def upsert_comment(
    settings: GitHubSettings,
    pr: int,
    body: str,
    *,
    marker: str = MARKER,
    client: GitHubClient | None = None,
) -> CommentResult:
    """Create, edit, or leave as is the one comment of pull request `pr` carrying `marker`.

    `client`: a client to use (tests pass one with a fast retry policy); by default one is
    made from `settings` and closed afterwards. Raises `CommentBodyError` before sending
    anything when the body cannot be posted, `GitHubAPIError` when GitHub refuses."""
    if not marker.strip():
        raise CommentBodyError("the marker is empty: it must identify the comment")
    text = with_marker(body, marker)
    check_body(text)
    own = client if client is not None else GitHubClient(settings)
    try:
        return await _upsert(own, settings.repository, pr, text, marker)
    finally:
        if client is None:
            await own.aclose()


async def post_plan_comment(
    body_file: Path | str,
    pr: int | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    marker: str = MARKER,
) -> CommentResult:
    """`octi-tanium pr-comment --body-file FILE [--pr N]` without the command line: settings
    from `environ` (default: the process environment), the body from `body_file` (UTF-8)."""
    settings, number = load_github(pr, environ)
    path = Path(body_file)
    try:
        body = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommentBodyError(
            f"--body-file {path} cannot be read: {exc.strerror or type(exc).__name__}"
        ) from None
    except UnicodeDecodeError:
        raise CommentBodyError(f"--body-file {path} is not UTF-8 text") from None
    return await upsert_comment(settings, number, body, marker=marker)


async def _upsert(
    client: GitHubClient, repository: str, pr: int, body: str, marker: str
) -> CommentResult:
    author = await _whoami(client)
    listing = f"repos/{repository}/issues/{pr}/comments"
    found, ignored = await _find(client, listing, marker, author)
    if found is None:
        try:
            created = await _post(client, listing, body)
        except GitHubAPIError as exc:
            if not exc.uncertain:
                raise
            log.warning("%s; looking for the comment before posting again", exc)
            found, ignored = await _find(client, listing, marker, author)
            if found is None:
                created = await _post(client, listing, body)
            elif _same(found.body, body):
                return _result(CommentAction.CREATED, pr, found, author, ignored)
        if found is None:
            return _result(CommentAction.CREATED, pr, created, author, ignored)
    if _same(found.body, body):
        return _result(CommentAction.UNCHANGED, pr, found, author, ignored)
    path = f"repos/{repository}/issues/comments/{found.id}"
    updated = _parse(await client.json("PATCH", path, json={"body": body}), "PATCH", path)
    return _result(CommentAction.UPDATED, pr, updated, author, ignored)


async def _whoami(client: GitHubClient) -> str | None:
    """The token's login, or None when the token cannot read `/user` (an installation token)."""
    try:
        data = await client.json("GET", "user")
    except GitHubAPIError as exc:
        if exc.status == 403 and not exc.temporary:
            log.info("the token cannot read /user (an app installation token): bots' comments")
            return None
        raise
    login = data.get("login") if isinstance(data, dict) else None
    if not isinstance(login, str) or not login:
        raise GitHubAPIError("the reply holds no login", method="GET", path="/user", status=200)
    return login


async def _find(
    client: GitHubClient, listing: str, marker: str, author: str | None
) -> tuple[_Comment | None, tuple[int, ...]]:
    """The oldest comment of ours carrying the marker, and the other marked ones."""
    ours: _Comment | None = None
    ignored: list[int] = []
    async for item in client.paginate(listing):
        comment = _parse(item, "GET", "/" + listing)
        if marker not in (comment.body or ""):
            continue
        if ours is None and _is_ours(comment, author):
            ours = comment
        else:
            ignored.append(comment.id)
    return ours, tuple(ignored)


def _is_ours(comment: _Comment, author: str | None) -> bool:
    if comment.user is None:
        return False
    if author is not None:
        return comment.user.login.lower() == author.lower()
    return comment.user.type == "Bot"


async def _post(client: GitHubClient, listing: str, body: str) -> _Comment:
    return _parse(
        await client.json("POST", listing, json={"body": body}, idempotent=False), "POST", listing
    )


def _parse(data: Any, method: str, path: str) -> _Comment:
    try:
        return _Comment.model_validate(data)
    except ValidationError:
        raise GitHubAPIError(
            "the reply is not a comment (no integer id)", method=method, path=path
        ) from None


def _same(current: str | None, wanted: str) -> bool:
    return (current or "").replace("\r\n", "\n") == wanted.replace("\r\n", "\n")


def _result(
    action: CommentAction, pr: int, comment: _Comment, author: str | None, ignored: tuple[int, ...]
) -> CommentResult:
    return CommentResult(action, pr, comment.id, comment.html_url, author, ignored)
