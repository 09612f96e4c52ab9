"""The pull-request workflow of examples/github-actions, run locally end to end.

Operations side (with the Tanium credential): `snapshot --out`. Pull-request side, with no
Tanium or OpenCTI credential in the environment: `validate --format github`, a plan against
the snapshot and a STIX bundle, `pr-comment` to the GitHub stand-in (one comment, edited on
the next push). Merge side (with the credential): `apply` of the saved plan passes the stale
check while Tanium still matches the snapshot, and is refused once it moved."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
from click.testing import CliRunner
from github_stand import PR, REPOSITORY, TOKEN, Stand

from controller.cli import main
from controller.github import MARKER
from tests.conftest import CORPUS
from tests.e2e.harness import Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"
CREDENTIALS = ("TANIUM_URL", "TANIUM_TOKEN", "TANIUM_TOKEN_FILE", "OPENCTI_URL", "OPENCTI_TOKEN")


def pull_request_step(args: list[str], github: Stand) -> tuple[int, str, str]:
    """A step of the PR job: GitHub's variables, and not one Tanium or OpenCTI credential."""
    env: dict[str, str | None] = {name: None for name in CREDENTIALS}
    env |= {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_SHA": "0123456789abcdef0123",
    }
    result = CliRunner().invoke(main, args, env=env)
    assert not any(os.environ.get(name) for name in CREDENTIALS)
    return result.exit_code, result.stdout, result.stderr


def plan_on_pull_request(snapshot: Path, work: Path, github: Stand) -> tuple[int, str]:
    code, out, err = pull_request_step(
        ["validate", "--policies", str(EVERYTHING), "--format", "github"], github
    )
    assert code == 0, out + err
    code, markdown, err = pull_request_step(
        [
            "plan",
            "--policies",
            str(EVERYTHING),
            "--source",
            f"bundle:{BUNDLE}",
            "--actual",
            f"snapshot:{snapshot}",
            "--out",
            str(work / "plan.json"),
            "--format",
            "markdown",
            "--detailed-exitcode",
        ],
        github,
    )
    assert code in (0, 2), markdown + err
    (work / "plan.md").write_text(markdown, encoding="utf-8")
    code, out, err = pull_request_step(
        ["pr-comment", "--body-file", str(work / "plan.md"), "--pr", str(PR)], github
    )
    assert code == 0, out + err
    return code, out


def take_snapshot(box: Sandbox, out: Path) -> None:
    made = box.cli(["snapshot", "--policies", str(EVERYTHING), "--out", str(out)])
    assert made.code == 0, made.output
    assert f"Snapshot of {box.url}" in made.output


def test_the_pull_request_workflow_needs_no_tanium_or_opencti_credential(
    github: Stand, tmp_path: Path
) -> None:
    snapshot = tmp_path / "tanium-snapshot.json"
    with tanium_sandbox() as box:
        take_snapshot(box, snapshot)

        _, posted = plan_on_pull_request(snapshot, tmp_path, github)
        assert posted.startswith(f"created the plan comment on pull request #{PR}")
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert plan["inputs"]["tanium_url"] == box.url
        assert plan["inputs"]["snapshot_taken_at"] is not None
        [comment] = github.fake.comments_on(PR)
        body = comment["body"]
        assert body.startswith(f"{MARKER}\n### octi-tanium plan for `0123456789ab`")
        assert f"Tanium `{box.url}`" in body and "planned against a snapshot of" in body
        assert "to create" in body

        # the next push: the same comment, edited
        (tmp_path / "plan.md").unlink()
        _, posted = plan_on_pull_request(snapshot, tmp_path, github)
        assert "the plan comment on pull request" in posted
        assert len(github.fake.comments_on(PR)) == 1

        # on merge, with the credential: applied, Tanium having not moved since the snapshot
        applied = box.cli(["apply", str(tmp_path / "plan.json"), "--policies", str(EVERYTHING)])
        assert applied.code == 0, applied.output
        again = box.cli(
            [
                "plan",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{BUNDLE}",
                "--detailed-exitcode",
            ]
        )
        assert again.code == 0, again.output


def test_a_plan_against_a_snapshot_tanium_moved_since_is_refused(
    github: Stand, tmp_path: Path
) -> None:
    snapshot = tmp_path / "tanium-snapshot.json"
    with tanium_sandbox() as box:
        box.cli(
            [
                "apply",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{BUNDLE}",
                "--auto-approve",
            ]
        )
        take_snapshot(box, snapshot)
        plan_on_pull_request(snapshot, tmp_path, github)
        doc = box.state()["intels"][0]
        httpx.delete(
            f"{box.url}/plugin/products/threat-response/api/v1/intels/",
            params={"id": doc["id"]},
            headers={"session": "token-e2e"},
        ).raise_for_status()
        applied = box.cli(["apply", str(tmp_path / "plan.json"), "--policies", str(EVERYTHING)])
        assert applied.code == 1
        assert "stale: Tanium's inventory changed since the snapshot of" in applied.output


def test_a_plan_made_for_another_tanium_names_it(github: Stand, tmp_path: Path) -> None:
    snapshot = tmp_path / "tanium-snapshot.json"
    with tanium_sandbox() as first:
        take_snapshot(first, snapshot)
    plan_on_pull_request(snapshot, tmp_path, github)
    with tanium_sandbox() as other:
        applied = other.cli(["apply", str(tmp_path / "plan.json"), "--policies", str(EVERYTHING)])
    assert applied.code == 1
    assert f"this plan was made for {first.url}" in applied.output
    assert f"not for {other.url}" in applied.output
