"""The GitHub client's exception tree, classed by what the caller must do next.

```
GitHubError                 base of every `pr-comment` failure; the command exits 1 with its text
├── GitHubSettingsError     the environment is incomplete or malformed: every problem at once
├── CommentBodyError        the body cannot be posted: unreadable, empty, over 65,536 characters
└── GitHubAPIError          GitHub answered an error, or could not be reached
```

`GitHubAPIError` carries the method, the URL path with its query, the status and the first 200
characters of the reply body, from which the client removes the token should the server ever
echo it. It never holds the request or its headers (the `Authorization` header is the token).
`temporary` says whether the same call may succeed later (5xx, rate limits, timeouts after the
retries ran out); `uncertain` that a create may have landed although no reply said so.
"""

from __future__ import annotations

from controller.errors import RemoteError, UserError

BODY_EXCERPT = 200


class GitHubError(UserError):
    """Any failure of posting the plan on a pull request. The message says what to do."""


class GitHubSettingsError(GitHubError):
    """Settings are missing or invalid; `problems` lists each one (all of them, not the first)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"cannot post on GitHub: {count} setting{'s' if count != 1 else ''} "
            f"missing or invalid:\n{lines}"
        )


class CommentBodyError(GitHubError):
    """The comment body is refused before anything is sent."""


class GitHubAPIError(GitHubError, RemoteError):
    """GitHub answered an error status, an unreadable reply, or no reply at all."""

    def __init__(
        self,
        reason: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        body: str = "",
        temporary: bool = False,
        uncertain: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.reason = reason
        self.method = method
        self.path = path
        self.status = status
        self.body = body[:BODY_EXCERPT]
        self.temporary = temporary
        self.uncertain = uncertain
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(self._message())

    product = "GitHub"

    def _message(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return self.compose(f"GitHub {self.method} {self.path}", status)
