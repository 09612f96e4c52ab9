"""Over real HTTP: a pass learns which documents it found in sync by rendering them, and the
next pass compares them without rendering anything — with the same plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import controller.render.intel as render_intel_module
from tests.e2e.harness import TOKEN, json_of, tanium_sandbox
from tests.e2e.test_changed_content import signal
from tests.e2e.test_safety_regressions import TR, apply, bundle
from tests.e2e.test_unverified import APPLY, EVERYTHING, SOURCE

PLAN = ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--format", "json"]


def _items(plan: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = plan["items"]
    return items


def test_a_plan_learns_what_is_in_sync_and_the_next_renders_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = render_intel_module.render_content

    def counting(*args: Any) -> str:
        rendered.append(args[0].key)
        return real(*args)

    monkeypatch.setattr(render_intel_module, "render_content", counting)
    with tanium_sandbox(seed="demo") as box:
        assert box.cli(APPLY).code == 0
        lost = {"OCTI_TANIUM_STATE_DIR": str(tmp_path / "a-new-container")}  # journal lost
        rendered.clear()
        first = box.cli(PLAN, env=lost)
        assert first.code == 0, first.output
        intel = [i for i in _items(json_of(first.output)) if i["kind"] == "intel"]
        assert intel and all(i["action"] == "no-op" for i in intel)
        assert len(rendered) == len(intel)  # no journal: each compared by its md5
        (journal,) = (tmp_path / "a-new-container" / "journal").iterdir()
        learned = json.loads(journal.read_text(encoding="utf-8"))["ids"]
        assert sorted(learned) == sorted(i["tanium_id"] for i in intel)
        rendered.clear()
        second = box.cli(PLAN, env=lost)
        assert second.code == 0, second.output
        assert rendered == []  # the journal vouched for every document
        assert _items(json_of(second.output)) == _items(json_of(first.output))


def test_a_document_edited_in_tanium_is_still_corrected_with_the_journal(tmp_path: Path) -> None:
    """The journal vouches for an md5 with a digest, never for an id alone: an edit in Tanium
    changes the md5, so the document is rendered, compared and found drifted as before."""
    with tanium_sandbox() as box:
        source = bundle(tmp_path, "v1", [signal("evil-one.exe")])
        assert apply(box, source) == 0
        plan = ["plan", "--policies", str(EVERYTHING), "--source", source, "--format", "json"]
        assert box.cli(plan).code == 0  # the journal holds the document now
        [doc] = box.state()["intels"]
        httpx.put(
            f"{box.url}{TR}/intels/{doc['id']}",
            headers={"session": TOKEN, "content-type": "application/json"},
            content=doc["contents"].replace("evil-one", "evil-edited"),
        ).raise_for_status()
        edited = box.cli(plan)
        assert edited.code == 0, edited.output
        [item] = [i for i in _items(json_of(edited.output)) if i["kind"] == "intel"]
        assert (item["action"], item["reason"]) == ("update", "drift"), item
