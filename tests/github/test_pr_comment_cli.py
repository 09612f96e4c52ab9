"""`octi-tanium pr-comment` on the command line, against the GitHub stand-in over real HTTP:
the first run creates the comment, the next edits it, never a second one; errors exit 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from github_stand import PR, REPOSITORY, TOKEN, Stand

from controller.cli import main
from controller.github import MARKER


def run(stand: Stand, *args: str, token: str = TOKEN) -> tuple[int, str]:
    env = {"GITHUB_TOKEN": token, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": stand.url}
    result = CliRunner().invoke(main, ["pr-comment", *args], env=env)
    return result.exit_code, result.output


def test_creates_one_comment_then_edits_it_never_two(github: Stand, tmp_path: Path) -> None:
    body = tmp_path / "plan.md"
    body.write_text("Plan: 1 to create.\n", encoding="utf-8")
    code, out = run(github, "--body-file", str(body), "--pr", str(PR))
    assert code == 0, out
    assert out.startswith(f"created the plan comment on pull request #{PR}: ")

    body.write_text("Plan: 2 to create.\n", encoding="utf-8")
    code, out = run(github, "--body-file", str(body), "--pr", str(PR))
    assert code == 0, out
    assert out.startswith(f"updated the plan comment on pull request #{PR}: ")

    code, out = run(github, "--body-file", str(body), "--pr", str(PR))
    assert (code, "is up to date" in out) == (0, True)
    [comment] = github.fake.comments_on(PR)
    assert comment["body"] == f"{MARKER}\nPlan: 2 to create.\n"
    assert github.fake.count("POST") == 1


def test_errors_exit_1_and_never_show_the_token(github: Stand, tmp_path: Path) -> None:
    code, out = run(github, "--body-file", str(tmp_path / "missing.md"), "--pr", str(PR))
    assert code == 1 and "cannot be read" in out
    body = tmp_path / "plan.md"
    body.write_text("x", encoding="utf-8")
    code, out = run(github, "--body-file", str(body), "--pr", "999")
    assert code == 1 and "404" in out and TOKEN not in out
    code, out = run(github, "--body-file", str(body), "--pr", str(PR), token="ghp_WrongNOTshown")
    assert code == 1 and "401" in out and "ghp_WrongNOTshown" not in out


def test_usage_errors_exit_1(github: Stand) -> None:
    code, out = run(github)
    assert code == 1 and "--body-file" in out
    code, out = run(github, "--body-file", "x", "--pr", "seven")
    assert code == 1 and "seven" in out


def test_a_long_error_is_not_hard_wrapped_off_a_terminal(github: Stand, tmp_path: Path) -> None:
    missing = tmp_path / ("a-rather-long-folder-name-" * 4) / "plan.md"
    code, out = run(github, "--body-file", str(missing), "--pr", str(PR))
    assert code == 1
    assert f"--body-file {missing} cannot be read" in out.replace("\n", " ")
    assert out.count("\n") == 1


def test_another_marker_keeps_a_comment_of_its_own(github: Stand, tmp_path: Path) -> None:
    body = tmp_path / "result.md"
    body.write_text("Applied.\n", encoding="utf-8")
    plan = tmp_path / "plan.md"
    plan.write_text("Plan: 1 to create.\n", encoding="utf-8")
    assert run(github, "--body-file", str(plan), "--pr", str(PR))[0] == 0
    assert run(github, "--body-file", str(body), "--pr", str(PR), "--marker", "apply")[0] == 0
    assert run(github, "--body-file", str(body), "--pr", str(PR), "--marker", "apply")[0] == 0
    bodies = [c["body"] for c in github.fake.comments_on(PR)]
    assert bodies == [f"{MARKER}\nPlan: 1 to create.\n", "<!-- octi-tanium:apply -->\nApplied.\n"]
    code, out = run(github, "--body-file", str(body), "--pr", str(PR), "--marker", "No Way")
    assert code == 1 and "--marker" in out
