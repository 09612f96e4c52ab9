"""Field-level changes: content compared parsed (Signal JSON, OpenIOC/STIX XML, YARA lines),
shown to the reviewer in every rendering; typed copy keys survive a plan file."""

import dataclasses
import json
from pathlib import Path

from controller.core.diff import document_changes, make_plan
from controller.core.diff.changes import content_changes
from controller.core.model import ActualState, DesiredIntel, Key, TaniumId
from controller.core.plan import Change, CopyKey
from controller.core.reasons import Reason
from controller.planfile import load_plan, save_plan
from controller.policy.models import SettingsSpec
from controller.render.marker import Marker, with_marker
from controller.report import render_markdown, render_text_plain
from tests.unit.test_diff import desired, have, state, want

SIGNAL_V1 = {
    "name": "Suspicious rundll32",
    "description": "rundll32 without arguments",
    "platforms": ["windows"],
    "contents": "(process.name == 'rundll32.exe')",
    "syntax_version": 7,
}
SIGNAL_V2 = {**SIGNAL_V1, "contents": "(process.name == 'rundll32.exe' and process.args == '')"}


def signal(content: dict[str, object], md5: str, digest: str) -> DesiredIntel:
    key = Key("indicator--c0ffee00-0000-4000-8000-000000000001")
    return DesiredIntel(
        key=key,
        intel_type="tanium-signal",
        name="Suspicious rundll32",
        description=with_marker("rundll32 without arguments", Marker(key, digest)),
        content=json.dumps(content),
        md5=md5,
        digest=digest,
    )


def changed_signal_plan() -> object:
    old = signal(SIGNAL_V1, md5="1" * 32, digest="a" * 16)
    new = signal(SIGNAL_V2, md5="2" * 32, digest="b" * 16)
    doc = dataclasses.replace(have(old, 41), content=old.content)
    return make_plan(desired(new), state(doc), settings=SettingsSpec())


def test_a_changed_signal_update_names_the_field_that_moved() -> None:
    plan = changed_signal_plan()
    (item,) = [i for i in plan.items if i.kind == "intel"]
    assert (item.action, item.reason) == ("update", "changed")
    content, marker = item.changes
    assert content == Change(
        field="content.contents", before=SIGNAL_V1["contents"], after=SIGNAL_V2["contents"]
    )
    assert marker.field == "marker"  # the digest it records moves with the content


def test_a_changed_signal_shows_field_before_and_after_in_text_and_markdown() -> None:
    plan = changed_signal_plan()
    for rendered in (render_text_plain(plan), render_markdown(plan)):
        assert "content.contents: (process.name == 'rundll32.exe') → (process.name" in rendered
        assert "process.args" in rendered


def test_without_the_body_an_update_shows_the_md5_as_before() -> None:
    doc = want("indicator--1", md5="m2", digest="e" * 16)
    plan = make_plan(desired(doc), state(have(doc, 1, md5="m1")), settings=SettingsSpec())
    (item,) = [i for i in plan.items if i.kind == "intel"]
    assert item.changes == (Change(field="content", before="m1", after="m2"),)


def test_openioc_changes_are_paths_in_the_xml_tree() -> None:
    ioc = (
        '<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="a"><definition>'
        '<Indicator operator="OR">'
        '<IndicatorItem id="1"><Content type="IP">10.0.0.1</Content></IndicatorItem>'
        '<IndicatorItem id="2"><Content type="IP">10.0.0.3</Content></IndicatorItem>'
        "</Indicator></definition></ioc>"
    )
    changes = content_changes("openioc", ioc, ioc.replace("10.0.0.3", "10.0.0.4"))
    assert changes == [
        Change(
            field="content.ioc.definition.Indicator.IndicatorItem[1].Content.#text",
            before="10.0.0.3",
            after="10.0.0.4",
        )
    ]


def test_yara_changes_are_numbered_lines() -> None:
    old = 'rule x {\n  strings:\n    $a = "foo"\n  condition:\n    $a\n}'
    new = 'rule x {\n  strings:\n    $a = "foo"\n    $b = "bar"\n  condition:\n    $a or $b\n}'
    assert content_changes("yara", old, new) == [
        Change(field="content line 4", before=None, after='    $b = "bar"'),
        Change(field="content line 6", before="    $a", after="    $a or $b"),
    ]


def test_content_that_does_not_parse_is_shown_whole() -> None:
    assert content_changes("tanium-signal", "{", "{}") == [
        Change(field="content", before="{", after="{}")
    ]


def test_a_plans_before_against_a_fresh_read() -> None:
    before = {"md5": "m1", "revision_id": 3, "label_ids": [1, 2], "intrinsic_id": "k"}
    fresh = {"md5": "m2", "revision_id": 4, "label_ids": [1, 2], "intrinsic_id": "k"}
    assert document_changes(before, fresh) == [
        Change(field="md5", before="m1", after="m2"),
        Change(field="revision_id", before=3, after=4),
    ]


def test_labels_and_platforms_compare_as_sets() -> None:
    assert document_changes({"labels": ["a", "b"]}, {"labels": ["b", "a"]}) == []
    assert document_changes({"platforms": ["mac"]}, {"platforms": ["linux", "mac"]}) == [
        Change(field="platforms", before=["mac"], after=["linux", "mac"])
    ]


def test_a_duplicate_key_is_typed_and_stays_typed_through_a_plan_file(tmp_path: Path) -> None:
    doc = want("indicator--1")
    plan = make_plan(desired(doc), state(have(doc, 1), have(doc, 2)), settings=SettingsSpec())
    (dup,) = [i for i in plan.items if i.action == "delete"]
    assert dup.reason == Reason.DUPLICATE == "duplicate"
    assert isinstance(dup.key, CopyKey)
    assert (dup.key.key, dup.key.tanium_id, dup.key) == ("indicator--1", 2, "indicator--1#2")
    assert dup.subject == "indicator--1"
    save_plan(plan, tmp_path / "plan.json")
    loaded = load_plan(tmp_path / "plan.json")
    (back,) = [i for i in loaded.items if i.action == "delete"]
    assert isinstance(back.key, CopyKey) and back.key.tanium_id == TaniumId(2)
    assert back.subject == "indicator--1" and back.reason is Reason.DUPLICATE
    assert loaded.items == plan.items


def test_a_plain_key_never_becomes_a_copy_key(tmp_path: Path) -> None:
    doc = want("indicator--1")
    gone = ActualState(
        source_id=TaniumId(7),
        source_name="OpenCTI",
        intel=(have(doc, 1),),
    )
    plan = make_plan(desired(), gone, settings=SettingsSpec())
    save_plan(plan, tmp_path / "plan.json")
    (item,) = [i for i in load_plan(tmp_path / "plan.json").items if i.action == "delete"]
    assert not isinstance(item.key, CopyKey) and item.subject == "indicator--1"
