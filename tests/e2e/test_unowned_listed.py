"""Objects in Tanium that are not ours are listed in the plan — name, Tanium id, why not
ours — in JSON, and collapsed in the Markdown, their count agreeing with the summary's."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from controller.cli import main
from tests.conftest import CORPUS
from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING
from tests.e2e.test_ownership import seed_unowned

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"


def test_unowned_objects_are_listed_with_why(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    with tanium_sandbox(seed="demo") as box:
        _, unmarked, forged = seed_unowned(box.url)
        made = box.cli(
            [
                "plan",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{BUNDLE}",
                "--out",
                str(out),
            ]
        )
        assert made.code == 0, made.output
    plan = json.loads(out.read_text())
    listed = plan["unowned_objects"]
    assert len(listed) == plan["unowned"]
    by_id = {o["tanium_id"]: o for o in listed if o["kind"] == "intel"}
    assert by_id[unmarked]["name"] == "hand made"
    assert by_id[unmarked]["why"].startswith("no octi-tanium marker")
    assert "a copied marker" in by_id[forged]["why"]
    for entry in (o for o in listed if o["kind"] == "blocklist"):
        assert entry["name"].split(":")[0] in ("sha256", "sha1", "md5")

    shown = CliRunner().invoke(main, ["show", str(out), "--format", "markdown"])
    assert f"<b>Not ours</b> ({plan['unowned']})" in shown.output
    assert f"hand made (Tanium id {unmarked}): no octi-tanium marker" in shown.output
