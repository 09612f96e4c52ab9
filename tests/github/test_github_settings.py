"""Settings of `pr-comment` from the environment: every problem at once, the pull request
number from `--pr` or the GitHub Actions event file, the token never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github_stand import REPOSITORY, TOKEN

from controller.github import GitHubSettings, GitHubSettingsError, load_github

BASE = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY}


def event(tmp_path: Path, payload: object) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {**BASE, "GITHUB_EVENT_PATH": str(path)}


def test_every_missing_setting_is_reported_at_once() -> None:
    with pytest.raises(GitHubSettingsError) as caught:
        load_github(None, {})
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("GITHUB_TOKEN is not set (nor GITHUB_TOKEN_FILE)")
    assert "pull-requests: write" in problems[0]
    assert problems[1].startswith("GITHUB_REPOSITORY is not set")
    assert problems[2].startswith("no pull request number: pass --pr N")
    assert str(caught.value).startswith("cannot post on GitHub: 3 settings missing or invalid:")


def test_invalid_values_are_reported_together_with_missing_ones() -> None:
    environ = {"GITHUB_REPOSITORY": "acme", "GITHUB_API_URL": "http://ghe.example/api/v3"}
    with pytest.raises(GitHubSettingsError) as caught:
        load_github(0, environ)
    assert [p.split(" ")[0] for p in caught.value.problems] == [
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY='acme'",
        "GITHUB_API_URL='http://ghe.example/api/v3'",
        "--pr",
    ]


def test_defaults_to_api_github_com_and_accepts_an_enterprise_root() -> None:
    settings, pr = load_github(5, BASE)
    assert (settings.api_url, settings.repository, pr) == ("https://api.github.com", REPOSITORY, 5)
    enterprise = {**BASE, "GITHUB_API_URL": "https://ghe.example.com/api/v3/"}
    assert GitHubSettings.from_env(enterprise).api_url == "https://ghe.example.com/api/v3"


@pytest.mark.parametrize("name", ["acme/intel", "a-b/c.d_e", "Acme9/.github"])
def test_repository_names_github_allows_are_accepted(name: str) -> None:
    assert GitHubSettings.from_env({**BASE, "GITHUB_REPOSITORY": name}).repository == name


@pytest.mark.parametrize(
    "name", ["acme", "acme/", "/intel", "ac me/intel", "a/b/c", "-a/b", "a/.."]
)
def test_a_repository_that_is_not_owner_slash_name_is_refused(name: str) -> None:
    with pytest.raises(GitHubSettingsError, match="is not owner/name"):
        GitHubSettings.from_env({**BASE, "GITHUB_REPOSITORY": name})


def test_the_token_may_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"{TOKEN}\n", encoding="utf-8")
    environ = {"GITHUB_TOKEN_FILE": str(tmp_path / "token"), "GITHUB_REPOSITORY": REPOSITORY}
    assert GitHubSettings.from_env(environ).token.get_secret_value() == TOKEN


def test_an_empty_or_missing_token_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    for name, expected in (("empty", "is empty"), ("absent", "cannot be read")):
        environ = {"GITHUB_TOKEN_FILE": str(tmp_path / name), "GITHUB_REPOSITORY": REPOSITORY}
        with pytest.raises(GitHubSettingsError, match=expected):
            GitHubSettings.from_env(environ)


def test_a_malformed_token_is_refused_without_being_shown() -> None:
    with pytest.raises(GitHubSettingsError) as caught:
        GitHubSettings.from_env({**BASE, "GITHUB_TOKEN": "ghp_abc def\u00e9"})
    assert "ghp_abc" not in str(caught.value)


def test_the_token_is_masked_in_repr_and_dumps() -> None:
    settings = GitHubSettings.from_env(BASE)
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert TOKEN not in text


def test_the_pull_request_number_comes_from_a_pull_request_event(tmp_path: Path) -> None:
    environ = event(tmp_path, {"action": "opened", "number": 12, "pull_request": {"number": 12}})
    assert load_github(None, environ)[1] == 12


def test_an_issue_comment_on_a_pull_request_gives_its_number(tmp_path: Path) -> None:
    payload = {"action": "created", "issue": {"number": 31, "pull_request": {"url": "…"}}}
    assert load_github(None, event(tmp_path, payload))[1] == 31


def test_an_issue_comment_on_a_plain_issue_is_refused(tmp_path: Path) -> None:
    environ = event(tmp_path, {"issue": {"number": 4}})
    with pytest.raises(GitHubSettingsError, match="about issue #4, not a pull request"):
        load_github(None, environ)


def test_an_explicit_number_wins_over_the_event_file(tmp_path: Path) -> None:
    environ = event(tmp_path, {"pull_request": {"number": 12}})
    assert load_github(40, environ)[1] == 40


def test_an_event_without_a_pull_request_is_reported(tmp_path: Path) -> None:
    with pytest.raises(GitHubSettingsError, match=r"holds no pull_request\.number"):
        load_github(None, event(tmp_path, {"ref": "refs/heads/main"}))


def test_an_unreadable_event_file_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    broken = tmp_path / "event.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(GitHubSettingsError) as caught:
        load_github(None, {"GITHUB_EVENT_PATH": str(broken)})
    assert len(caught.value.problems) == 3
    assert caught.value.problems[-1] == f"GITHUB_EVENT_PATH={broken} is not JSON"


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    assert GitHubSettings.from_env().repository == REPOSITORY
