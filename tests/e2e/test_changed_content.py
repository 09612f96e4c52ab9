"""A plan says what moved inside a changed document — read from Tanium, compared parsed — and a
saved plan refused at apply says what moved in Tanium, not two fingerprints."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, indicator
from tests.e2e.test_safety_regressions import TR, apply, bundle

SIGNAL = "process.name equals '{name}'"


def signal(name: str) -> dict[str, object]:
    return indicator(1, "evil signal") | {
        "pattern": SIGNAL.format(name=name),
        "pattern_type": "tanium-signal",
    }


def test_the_plan_of_a_changed_signal_shows_the_changed_field_before_and_after(
    tmp_path: Path,
) -> None:
    with tanium_sandbox() as box:
        assert apply(box, bundle(tmp_path, "v1", [signal("evil-one.exe")])) == 0
        changed = bundle(tmp_path, "v2", [signal("evil-two.exe")])
        for fmt in ("text", "markdown"):
            shown = box.cli(
                ["plan", "--policies", str(EVERYTHING), "--source", changed, "--format", fmt]
            )
            assert shown.code == 0, shown.output
            text = " ".join(shown.output.split())
            assert "content.contents" in text, shown.output
            assert "evil-one.exe" in text and "evil-two.exe" in text, shown.output
        [item] = [i for i in box.plan_json(EVERYTHING, changed)["items"] if i["action"] == "update"]
        contents = [c for c in item["changes"] if c["field"] == "content.contents"]
        assert [(c["before"], c["after"]) for c in contents] == [
            (SIGNAL.format(name="evil-one.exe"), SIGNAL.format(name="evil-two.exe"))
        ]


def test_a_stale_saved_plan_says_which_document_moved(tmp_path: Path) -> None:
    with tanium_sandbox() as box:
        assert apply(box, bundle(tmp_path, "v1", [signal("evil-one.exe")])) == 0
        out = tmp_path / "plan.json"
        changed = bundle(tmp_path, "v2", [signal("evil-two.exe")])
        made = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", changed, "--out", str(out)]
        )
        assert made.code == 0, made.output
        [doc] = box.state()["intels"]
        httpx.put(
            f"{box.url}{TR}/intels/{doc['id']}",
            headers={"session": TOKEN, "content-type": "application/json"},
            content=doc["contents"].replace("evil-one", "evil-three"),
        ).raise_for_status()
        applied = box.cli(["apply", str(out)])
        assert applied.code == 1
        text = " ".join(applied.output.split())
        assert "stale" in text and "evil signal" in text and "md5" in text, applied.output
