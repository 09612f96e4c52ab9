"""`--source opencti` through the real command line: for every corpus bundle the plan made
from the OpenCTI emulator seeded with it equals the plan made with `--source bundle:`; a
failing page or a GraphQL error withholds every delete and exits 3 with --detailed-exitcode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from tests.e2e.harness import Sandbox, tanium_sandbox
from tests.e2e.test_convergence import BUNDLES, EVERYTHING, indicator

OPENCTI_TOKEN = "opencti-e2e-token"


def comparable(output: str) -> dict[str, Any]:
    plan = json.loads(output[output.index("{") :])
    return {k: plan[k] for k in ("summary", "guards", "items", "skipped", "diagnostics", "unowned")}


def plan_json(box: Sandbox, source: str, env: dict[str, str]) -> dict[str, Any]:
    result = box.cli(
        ["plan", "--policies", str(EVERYTHING), "--source", source, "--format", "json"], env=env
    )
    assert result.code == 0, result.output
    return comparable(result.output)


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_opencti_plan_equals_bundle_plan(bundle: Path) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,))
    with tanium_sandbox() as box, serve_opencti(config) as (url, state):
        state.seed_file(bundle)
        env = {"OPENCTI_URL": url, "OPENCTI_TOKEN": OPENCTI_TOKEN}
        assert plan_json(box, "opencti", env) == plan_json(box, f"bundle:{bundle}", env)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 502, "after": 1},
        {"kind": "graphql_error", "code": "DATABASE_ERROR", "after": 1},
    ],
    ids=["failing-page", "graphql-error"],
)
def test_an_incomplete_read_withholds_every_delete_and_exits_3(
    tmp_path: Path, fault: dict[str, Any]
) -> None:
    objects = [indicator(n, f"host{n}.example") for n in range(1, 4)]
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,))
    with tanium_sandbox() as box, serve_opencti(config) as (url, state):
        state.seed_file(bundle)
        env = {"OPENCTI_URL": url, "OPENCTI_TOKEN": OPENCTI_TOKEN, "OPENCTI_PAGE_SIZE": "1"}
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", "opencti", "--auto-approve"],
            env=env,
        )
        assert applied.code == 0, applied.output
        before = {d["id"] for d in box.state()["intels"]}
        httpx.post(f"{url}/__sandbox/faults", json=fault | {"times": 1000}).raise_for_status()
        result = box.cli(
            [
                "plan",
                "--policies",
                str(EVERYTHING),
                "--source",
                "opencti",
                "--detailed-exitcode",
                "--format",
                "json",
            ],
            env=env,
        )
        plan = json.loads(result.output[result.output.index("{") :])
        assert result.code == 3, result.output
        guard = {g["name"]: g for g in plan["guards"]}["complete"]
        assert not guard["ok"] and guard["detail"]
        assert plan["summary"]["delete"] == 0 and plan["summary"]["blocked"] >= 1
        run = box.cli(
            ["run", "--once", "--policies", str(EVERYTHING), "--source", "opencti"],
            env=env | {"OCTI_TANIUM_STATE_DIR": str(tmp_path)},
        )
        assert run.code == 3
        assert {d["id"] for d in box.state()["intels"]} == before


def test_the_demo_knowledge_base_syncs_from_opencti_and_converges() -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,), seed="demo")
    with tanium_sandbox(seed="demo") as box, serve_opencti(config) as (url, _):
        env = {"OPENCTI_URL": url, "OPENCTI_TOKEN": OPENCTI_TOKEN}
        applied = box.cli(["apply", "--source", "opencti", "--auto-approve"], env=env)
        assert applied.code == 0, applied.output
        again = box.cli(["plan", "--source", "opencti", "--detailed-exitcode"], env=env)
        assert again.code == 0, again.output
