"""The pure diff: owned objects only, a reason for every item, guards that fail closed."""

import dataclasses
from datetime import UTC, datetime

from controller.core.desired import DesiredState, SkippedObject
from controller.core.diff import make_plan
from controller.core.model import (
    ActualBlocklist,
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    Key,
    TaniumId,
)
from controller.policy.models import SettingsSpec
from controller.render.canonical import file_key
from controller.render.marker import Marker, installation_id, with_marker

SETTINGS = SettingsSpec()


def want(
    key: str,
    *,
    md5: str = "m1",
    labels: tuple[str, ...] = (),
    digest: str = "d" * 16,
    name: str = "doc",
) -> DesiredIntel:
    return DesiredIntel(
        key=Key(key),
        intel_type="openioc",
        name=name,
        description=with_marker("desc", Marker(Key(key), digest)),
        content="<ioc/>",
        md5=md5,
        digest=digest,
        labels=labels,
        sources=("indicator--0",),
    )


def have(
    doc: DesiredIntel,
    ident: int,
    *,
    md5: str | None = None,
    label_ids: tuple[int, ...] = (),
    description: str | None = None,
) -> ActualIntel:
    return ActualIntel(
        id=TaniumId(ident),
        name=doc.name,
        intel_type=doc.intel_type,
        intrinsic_id=doc.key,
        description=doc.description if description is None else description,
        md5=doc.md5 if md5 is None else md5,
        revision_id=1,
        label_ids=tuple(TaniumId(i) for i in label_ids),
    )


def state(
    *docs: ActualIntel,
    labels: tuple[ActualLabel, ...] = (),
    blocklist: tuple[ActualBlocklist, ...] = (),
) -> ActualState:
    return ActualState(
        source_id=TaniumId(7), source_name="OpenCTI", intel=docs, labels=labels, blocklist=blocklist
    )


def desired(*docs: DesiredIntel, gone: dict[str, str] | None = None) -> DesiredState:
    return DesiredState(
        intel={d.key: d for d in docs}, gone={Key(k): v for k, v in (gone or {}).items()}
    )


def actions(plan: object) -> list[tuple[str, str, str, str]]:
    return [(i.action, i.kind, i.key, i.reason) for i in plan.items]  # type: ignore[attr-defined]


def test_in_sync_state_is_all_no_op() -> None:
    a = want("k1")
    plan = make_plan(desired(a), state(have(a, 1)), settings=SETTINGS)
    assert actions(plan) == [("no-op", "intel", "k1", "in-sync")]
    assert plan.exit_code() == 0


def test_new_document_is_created_with_its_labels_and_one_deploy() -> None:
    a = want("k1", labels=("emotet",))
    plan = make_plan(desired(a), state(), settings=SETTINGS)
    assert actions(plan) == [
        ("create", "label", "label:emotet", "new"),
        ("create", "intel", "k1", "new"),
        ("create", "deploy", "deploy", "changed"),
    ]
    assert plan.summary.create == 1
    assert plan.exit_code() == 2


def test_label_only_change_updates_labels_without_deploy() -> None:
    a = want("k1", labels=("emotet",))
    labels = (ActualLabel(id=TaniumId(3), name="Emotet"), ActualLabel(id=TaniumId(4), name="old"))
    plan = make_plan(
        desired(a), state(have(a, 1, label_ids=(3, 4)), labels=labels), settings=SETTINGS
    )
    assert actions(plan) == [("update", "intel", "k1", "labels")]
    (change,) = plan.items[0].changes
    assert change.field == "labels" and change.before == ["Emotet", "old"]


def test_content_change_is_changed_and_tampering_is_drift() -> None:
    new = want("k1", md5="m2", digest="e" * 16)
    old = want("k1", md5="m1", digest="d" * 16)
    plan = make_plan(desired(new), state(have(old, 1)), settings=SETTINGS)
    assert actions(plan)[0] == ("update", "intel", "k1", "changed")
    assert {c.field for c in plan.items[0].changes} >= {"content"}
    tampered = make_plan(desired(old), state(have(old, 1, md5="edited")), settings=SETTINGS)
    assert actions(tampered)[0] == ("update", "intel", "k1", "drift")


def test_revoked_document_is_deleted_with_reason() -> None:
    a, b = want("k1"), want("k2")
    plan = make_plan(
        desired(b, gone={"k1": "revoked"}), state(have(a, 1), have(b, 2)), settings=SETTINGS
    )
    assert actions(plan) == [
        ("no-op", "intel", "k2", "in-sync"),
        ("delete", "intel", "k1", "revoked"),
        ("create", "deploy", "deploy", "changed"),
    ]


def test_unowned_documents_are_never_modified() -> None:
    a = want("k1")
    foreign = ActualIntel(
        id=TaniumId(9), name="manual", description="written by hand", intrinsic_id="x", md5="zz"
    )
    forged = have(a, 10, description="no marker here")
    inconsistent = ActualIntel(
        id=TaniumId(11),
        name="doc",
        description=a.description,
        intrinsic_id="someone-else",
        md5="m1",
    )
    plan = make_plan(desired(), state(foreign, forged, inconsistent), settings=SETTINGS)
    assert [i for i in plan.items if i.kind == "intel"] == []
    assert plan.unowned == 3


def test_duplicate_owned_documents_keep_the_oldest() -> None:
    a = want("k1")
    plan = make_plan(desired(a), state(have(a, 5), have(a, 2)), settings=SETTINGS)
    assert ("no-op", "intel", "k1", "in-sync") in actions(plan)
    deleted = [i for i in plan.items if i.action == "delete"]
    assert [(i.tanium_id, i.reason) for i in deleted] == [(5, "duplicate")]


def test_incomplete_source_blocks_every_delete() -> None:
    a = want("k1")
    plan = make_plan(
        desired(),
        state(have(a, 1)),
        settings=SETTINGS,
        complete=False,
        incomplete_reasons=["page 3 failed"],
    )
    (item,) = [i for i in plan.items if i.kind == "intel"]
    assert item.blocked and item.guard is not None and "complete" in item.guard
    guard = {g.name: g for g in plan.guards}["complete"]
    assert not guard.ok and "page 3 failed" in guard.detail
    assert plan.summary.blocked == 1 and plan.summary.delete == 0
    assert plan.exit_code() == 3


def test_deletion_budget_blocks_mass_deletes() -> None:
    docs = [want(f"k{i}") for i in range(30)]
    keep = docs[:10]
    plan = make_plan(
        desired(*keep), state(*(have(d, i + 1) for i, d in enumerate(docs))), settings=SETTINGS
    )
    assert plan.summary.blocked == 20
    assert not {g.name: g for g in plan.guards}["deletion-budget"].ok


def test_empty_desired_state_never_deletes_everything() -> None:
    a = want("k1")
    plan = make_plan(desired(), state(have(a, 1)), settings=SETTINGS)
    assert not {g.name: g for g in plan.guards}["empty-desired"].ok
    assert plan.exit_code() == 3


SHA = "a" * 64
FILE_KEY = file_key({"sha256": SHA})
HERE = installation_id(SETTINGS.source)


def entry(
    notes_src: str | None = HERE, *, ident: int = 1, lst: str = "blacklist", sha: str = SHA
) -> tuple[DesiredBlocklist, ActualBlocklist]:
    marker = Marker(FILE_KEY, "f" * 16, notes_src)
    want = DesiredBlocklist(
        key=FILE_KEY,
        sha256=SHA,
        notes=with_marker("emotet", marker),
        digest="f" * 16,
        name=SHA,
        sources=("file--0",),
    )
    have = ActualBlocklist(id=TaniumId(ident), list=lst, sha256=sha.upper(), notes=want.notes)
    return want, have


def test_blocklist_entries_are_owned_by_their_notes_marker() -> None:
    want, mine = entry()
    theirs = ActualBlocklist(id=TaniumId(2), sha256="b" * 64, notes="added by the SOC")
    plan = make_plan(
        DesiredState(blocklist={want.key: want}), state(blocklist=(mine, theirs)), settings=SETTINGS
    )
    assert actions(plan) == [("no-op", "blocklist", FILE_KEY, "in-sync")]
    assert plan.unowned == 1


def test_another_installations_entries_are_not_ours() -> None:
    _, foreign = entry(notes_src="0badc0de")
    plan = make_plan(DesiredState(), state(blocklist=(foreign,)), settings=SETTINGS)
    assert [i for i in plan.items if i.kind == "blocklist"] == []
    assert plan.unowned == 1


def test_a_copied_marker_on_another_hash_is_not_ours() -> None:
    _, forged = entry(sha="c" * 64)
    plan = make_plan(DesiredState(), state(blocklist=(forged,)), settings=SETTINGS)
    assert plan.unowned == 1


def test_a_hash_held_by_an_unowned_entry_is_never_uploaded() -> None:
    want, _ = entry()
    allow = ActualBlocklist(id=TaniumId(5), list="whitelist", sha256=SHA, notes="known good")
    plan = make_plan(
        DesiredState(blocklist={want.key: want}), state(blocklist=(allow,)), settings=SETTINGS
    )
    assert [i for i in plan.items if i.kind == "blocklist"] == []
    assert [(s.key, s.reason) for s in plan.skipped] == [(FILE_KEY, "conflict")]


def test_an_owned_entry_known_by_more_hashes_now_is_updated_in_place() -> None:
    md5 = "d" * 32
    old_key = file_key({"md5": md5})
    old = ActualBlocklist(
        id=TaniumId(3), md5=md5, notes=with_marker("x", Marker(old_key, "e" * 16, HERE))
    )
    new_key = file_key({"md5": md5, "sha256": SHA})
    want = DesiredBlocklist(
        key=new_key,
        md5=md5,
        sha256=SHA,
        digest="f" * 16,
        name=SHA,
        notes=with_marker("x", Marker(new_key, "f" * 16, HERE)),
        sources=("file--0",),
    )
    plan = make_plan(
        DesiredState(blocklist={want.key: want}), state(blocklist=(old,)), settings=SETTINGS
    )
    assert [(i.action, i.tanium_id) for i in plan.items] == [("update", 3)]


def test_a_type_change_is_a_create_then_a_delete_of_the_old_document() -> None:
    old = want("k1")
    new = old.model_copy(update={"intel_type": "tanium-signal", "md5": "m2"})
    plan = make_plan(desired(new), state(have(old, 1)), settings=SETTINGS)
    assert actions(plan) == [
        ("create", "intel", "k1", "changed"),
        ("delete", "intel", "k1#1", "replaced"),
        ("create", "deploy", "deploy", "changed"),
    ]


def test_documents_left_undeployed_by_an_earlier_pass_get_a_deploy() -> None:
    a = want("k1")
    doc = dataclasses.replace(have(a, 1), updated_at=datetime(2026, 11, 2, tzinfo=UTC))
    stale = state(doc).model_copy(
        update={"deploy_known": True, "last_deploy_at": datetime(2026, 11, 1, tzinfo=UTC)}
    )
    plan = make_plan(desired(a), stale, settings=SETTINGS)
    assert actions(plan)[-1] == ("create", "deploy", "deploy", "undeployed")
    fresh = stale.model_copy(update={"last_deploy_at": datetime(2026, 11, 3, tzinfo=UTC)})
    assert not make_plan(desired(a), fresh, settings=SETTINGS).has_changes


def test_static_intel_does_not_hide_an_empty_source() -> None:
    a, static = want("k1"), want("static:rule").model_copy(update={"sources": ("static:rule",)})
    plan = make_plan(desired(static), state(have(a, 1), have(static, 2)), settings=SETTINGS)
    assert not {g.name: g for g in plan.guards}["empty-desired"].ok
    assert plan.exit_code() == 3


def test_skipped_objects_are_in_the_plan_with_their_reason() -> None:
    d = DesiredState(skipped=[SkippedObject("indicator--1", "revoked", "evil")])
    plan = make_plan(d, state(), settings=SETTINGS)
    assert [(s.key, s.reason) for s in plan.skipped] == [("indicator--1", "revoked")]
