"""Where `pr-comment` posts, and with which token, from the environment.

| Variable              | Meaning                                                              |
|-----------------------|----------------------------------------------------------------------|
| `GITHUB_TOKEN`        | token allowed to write pull-request comments (sent as `Bearer`)      |
| `GITHUB_TOKEN_FILE`   | file holding the token (stripped); used when `GITHUB_TOKEN` is unset  |
| `GITHUB_REPOSITORY`   | `owner/name` (set by GitHub Actions)                                 |
| `GITHUB_API_URL`      | API root, default `https://api.github.com`; GitHub Enterprise Server: |
|                       | `https://HOST/api/v3` (set by GitHub Actions)                        |
| `GITHUB_EVENT_PATH`   | the event JSON (set by GitHub Actions): the pull request number comes |
|                       | from `pull_request.number`, or `issue.number` for `issue_comment`    |

An explicit pull request number (`--pr N`) wins over the event file. Every missing or invalid
setting is reported at once, in one `GitHubSettingsError`. The token is a `SecretStr`: masked
in `repr`, `str` and model dumps, and never named in a message.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from controller.github.errors import GitHubSettingsError

DEFAULT_API_URL = "https://api.github.com"

# GitHub: an owner is 1-39 alphanumerics or single hyphens; a repository name is made of
# alphanumerics, '-', '_' and '.', other than '.' and '..'.
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")

_TOKEN_HINT = (
    "a token allowed to write pull-request comments; in GitHub Actions: "
    "`env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` with `permissions: pull-requests: write`"
)


class GitHubSettings(BaseModel):
    """A validated GitHub connection: token, repository and API root."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr
    repository: str
    """`owner/name`."""
    api_url: str = DEFAULT_API_URL
    """Without a trailing slash."""
    timeout: float = Field(30.0, gt=0)
    """Seconds per HTTP call."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GitHubSettings:
        """Token, repository and API root from `environ` (default: the process environment);
        raise `GitHubSettingsError` listing every problem."""
        settings, problems = _read(os.environ if environ is None else environ)
        if settings is None:
            raise GitHubSettingsError(problems)
        return settings


def load_github(
    pr: int | None = None, environ: Mapping[str, str] | None = None
) -> tuple[GitHubSettings, int]:
    """The settings and the pull request number (`pr`, else the event file), or one
    `GitHubSettingsError` naming every missing or invalid setting, the number included."""
    env = os.environ if environ is None else environ
    settings, problems = _read(env)
    number, problem = _pr_number(pr, env)
    if problem:
        problems.append(problem)
    if settings is None or number is None:
        raise GitHubSettingsError(problems)
    return settings, number


def _read(env: Mapping[str, str]) -> tuple[GitHubSettings | None, list[str]]:
    problems: list[str] = []
    token = _token(env, problems)
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if not repository:
        problems.append("GITHUB_REPOSITORY is not set: the repository as owner/name")
    elif not _valid_repository(repository):
        problems.append(
            f"GITHUB_REPOSITORY={repository!r} is not owner/name "
            "(letters, digits, '-', and for the name also '.', '_')"
        )
    api_url = env.get("GITHUB_API_URL", "").strip().rstrip("/") or DEFAULT_API_URL
    problem = _api_url_problem(api_url)
    if problem:
        problems.append(problem)
    if problems or token is None:
        return None, problems
    return GitHubSettings(token=token, repository=repository, api_url=api_url), problems


def _token(env: Mapping[str, str], problems: list[str]) -> SecretStr | None:
    value = env.get("GITHUB_TOKEN", "").strip()
    source = "GITHUB_TOKEN"
    if not value:
        file = env.get("GITHUB_TOKEN_FILE", "").strip()
        if not file:
            problems.append(f"GITHUB_TOKEN is not set (nor GITHUB_TOKEN_FILE): {_TOKEN_HINT}")
            return None
        source = f"GITHUB_TOKEN_FILE={file}"
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{source} cannot be read: {type(exc).__name__}")
            return None
        if not value:
            problems.append(f"{source} is empty")
            return None
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        problems.append(f"{source} holds characters a token cannot have (not shown)")
        return None
    return SecretStr(value)


def _valid_repository(value: str) -> bool:
    owner, _, name = value.partition("/")
    return (
        bool(_OWNER.fullmatch(owner))
        and "--" not in owner
        and bool(_NAME.fullmatch(name))
        and name not in (".", "..")
    )


def _api_url_problem(url: str) -> str | None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return f"GITHUB_API_URL={url!r} is not a URL"
    if parsed.scheme == "https" and parsed.host:
        return None
    if parsed.scheme == "http" and _loopback(parsed.host):
        return None  # a local stand-in; a token never crosses a network in clear text
    return (
        f"GITHUB_API_URL={url!r} must start with https:// "
        "(e.g. https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pr_number(explicit: int | None, env: Mapping[str, str]) -> tuple[int | None, str | None]:
    if explicit is not None:
        if explicit < 1:
            return None, f"--pr {explicit} is not a pull request number (expected 1 or more)"
        return explicit, None
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return None, (
            "no pull request number: pass --pr N, or run in a GitHub Actions job triggered by "
            "pull_request (or issue_comment), where GITHUB_EVENT_PATH names the event file"
        )
    try:
        event: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"GITHUB_EVENT_PATH={path} cannot be read: {type(exc).__name__}"
    except ValueError:
        return None, f"GITHUB_EVENT_PATH={path} is not JSON"
    if not isinstance(event, dict):
        return None, f"GITHUB_EVENT_PATH={path} is not a JSON object"
    for key in ("pull_request", "issue"):
        item = event.get(key)
        if not isinstance(item, dict):
            continue
        number = item.get("number")
        if key == "issue" and "pull_request" not in item:
            return None, (
                f"GITHUB_EVENT_PATH={path}: the event is about issue #{number}, "
                "not a pull request: pass --pr N"
            )
        if isinstance(number, int) and not isinstance(number, bool) and number > 0:
            return number, None
    return None, (
        f"GITHUB_EVENT_PATH={path} holds no pull_request.number nor issue.number "
        "(not a pull_request or issue_comment event): pass --pr N"
    )
