"""The incremental `make_plan`: `PlanMemo.make` plans exactly what `make_plan` plans, pass after
pass, while joining again only the keys whose inputs moved."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.desired import DesiredState
from controller.core.diff import make_plan
from controller.core.diff import memo as memo_module
from controller.core.diff.memo import PlanMemo
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
from controller.core.plan import Plan, to_json
from controller.core.reasons import Reason
from controller.policy.models import SettingsSpec
from controller.render.canonical import file_key
from controller.render.marker import Marker, installation_id, with_marker

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)
PLAIN = SettingsSpec()
ADOPT = SettingsSpec.model_validate({"adopt": {"blocklist": True}, "quickScan": {"maxPerRun": 2}})
HERE = installation_id(PLAIN.source)
KEYS = [Key(f"indicator--0000000{i}-0000-4000-8000-000000000000") for i in range(4)]
KEYS.append(Key("static:rule"))
SHAS = [f"{i:x}" * 64 for i in range(10, 14)]
MD5S = [f"{i:x}" * 32 for i in range(10, 14)]
STEPS = [
    *["want"] * 4,
    "unwant",
    *["gone"] * 2,
    *["write"] * 4,
    *["edit"] * 5,
    *["copy"] * 2,
    *["journal"] * 2,
    *["file"] * 2,
    *["entry"] * 3,
    "soc",
    "unentry",
    "time",
    "complete",
    *["warn"] * 3,
    "world",
    "squat",
]
LABEL_SETS = [(), ("emotet",), ("APT", "emotet"), ("qakbot",)]
TANIUM_LABELS = [
    (ActualLabel(id=TaniumId(1), name="emotet"), ActualLabel(id=TaniumId(2), name="apt")),
    (ActualLabel(id=TaniumId(1), name="Emotet"), ActualLabel(id=TaniumId(3), name="qakbot")),
]


def intel(key: Key, version: int) -> DesiredIntel:
    digest = f"{version:016x}"
    return DesiredIntel(
        key=key,
        intel_type="yara" if version == 3 else "openioc",
        name=f"doc {key[-3:]} {version % 2}",
        description=with_marker(f"described {version}", Marker(key, digest)),
        content=f"<ioc v='{version}'/>",
        md5=f"{version:032x}",
        digest=digest,
        labels=LABEL_SETS[version % 4],
        scan_groups=("servers",) if version == 2 else (),
        sources=(key,),
        policies=("p",),
    )


def blocked(index: int, version: int) -> DesiredBlocklist:
    """A desired file; version 2 knows it by its md5 too (the md5 of file `index + 1`)."""
    sha = SHAS[index]
    key = file_key({"sha256": sha})
    md5 = MD5S[(index + 1) % 4] if version == 2 else ""
    digest = f"{version + 8:016x}"
    return DesiredBlocklist(
        key=key,
        sha256=sha,
        md5=md5,
        notes=with_marker(f"file {version}", Marker(key, digest, HERE)),
        digest=digest,
        name=sha,
        sources=("file--0",),
    )


def written(want: DesiredIntel, ident: int, labels: tuple[ActualLabel, ...]) -> ActualIntel:
    """The document as octi-tanium wrote it."""
    ids = {label.name.lower(): label.id for label in labels}
    return ActualIntel(
        id=TaniumId(ident),
        name=want.name,
        description=want.description,
        intel_type=want.intel_type,
        intrinsic_id=want.key,
        md5=want.md5,
        revision_id=1,
        label_ids=tuple(ids[x.lower()] for x in want.labels if x.lower() in ids),
        updated_at=T0,
    )


class World:
    """Desired state, Tanium and the journal, changed one random step at a time."""

    def __init__(self) -> None:
        self.wants: dict[Key, DesiredIntel] = {}
        self.files: dict[Key, DesiredBlocklist] = {}
        self.gone: dict[Key, Reason] = {}
        self.warn: set[Key] = set()
        self.docs: dict[TaniumId, ActualIntel] = {}
        self.entries: dict[TaniumId, ActualBlocklist] = {}
        self.labels = TANIUM_LABELS[0]
        self.journal: dict[TaniumId, tuple[str, str]] = {}
        self.now = T0
        self.deploy: datetime | None = None
        self.complete = True
        self.settings = PLAIN
        self.next_id = 100

    def new_id(self) -> TaniumId:
        self.next_id += 1
        return TaniumId(self.next_id)

    def step(self, data: st.DataObject) -> None:
        draw = data.draw
        what = draw(st.sampled_from(STEPS), label="step")
        key = draw(st.sampled_from(KEYS), label="key")
        file = draw(st.integers(0, 3), label="file")
        version = draw(st.integers(0, 3), label="version")
        docs = [d for d in self.docs.values() if d.intrinsic_id == key]
        if what == "want":  # a desired item changed (a new instance, its values maybe equal)
            self.wants[key] = intel(key, version)
            self.gone.pop(key, None)
        elif what == "unwant" and key in self.wants:
            del self.wants[key]
            self.gone[key] = draw(st.sampled_from([Reason.REVOKED, Reason.EXPIRED]))
        elif what == "gone" and key not in self.wants:  # why it is not desired changed
            if self.gone.pop(key, None) is None:
                self.gone[key] = Reason.EXCLUDED
        elif what == "write" and key in self.wants:  # apply wrote it
            ident = docs[0].id if docs else self.new_id()
            self.docs[ident] = written(self.wants[key], ident, self.labels)
        elif what == "edit" and docs:  # edited in Tanium
            doc = draw(st.sampled_from(docs))
            edit = draw(st.sampled_from(["md5", "labels", "unmarked", "name", "schema", "time"]))
            self.docs[doc.id] = {
                "md5": lambda d: dataclasses.replace(d, md5="e" * 32, revision_id=2),
                "labels": lambda d: dataclasses.replace(d, label_ids=(TaniumId(2),)),
                "unmarked": lambda d: dataclasses.replace(d, description="hand-edited"),
                "name": lambda d: dataclasses.replace(d, name="renamed"),
                "schema": lambda d: dataclasses.replace(d, schema_valid=False),
                "time": lambda d: dataclasses.replace(d, updated_at=self.now),
            }[edit](doc)
        elif what == "copy" and docs:  # a copy, a deletion
            doc = draw(st.sampled_from(docs))
            if draw(st.booleans()):
                copy = self.new_id()
                self.docs[copy] = dataclasses.replace(doc, id=copy)
            else:
                del self.docs[doc.id]
        elif what == "journal" and docs:  # the journal vouches, or forgets
            doc = draw(st.sampled_from(docs))
            want = self.wants.get(key)
            if want is not None and draw(st.booleans()):
                self.journal[doc.id] = (doc.md5, want.digest)
            else:
                self.journal.pop(doc.id, None)
        elif what == "file":  # a desired file changed, or left
            want_file = blocked(file, version)
            if version == 3:
                self.files.pop(want_file.key, None)
            else:
                self.files[want_file.key] = want_file
        elif what == "entry":  # apply wrote the entry; or an analyst edited it
            self._entry(file, version)
        elif what == "soc":  # an entry nobody here owns holds a desired hash
            ident = self.new_id()
            lst = draw(st.sampled_from(["blacklist", "whitelist"]))
            self.entries[ident] = ActualBlocklist(id=ident, list=lst, md5=MD5S[file], notes="SOC")
        elif what == "unentry" and self.entries:
            del self.entries[draw(st.sampled_from(sorted(self.entries)))]
        elif what == "time":  # time passes (across the deploy retry window); a deploy completes
            self.now += timedelta(minutes=draw(st.sampled_from([1, 10, 20])))
            if draw(st.booleans()):
                self.deploy = self.now - timedelta(minutes=draw(st.sampled_from([0, 30])))
        elif what == "complete":
            self.complete = not self.complete
        elif what == "warn":
            self.warn ^= {key}
        elif what == "world":  # Tanium's labels, the listing order, the Settings
            change = draw(st.integers(0, 2))
            if change == 0:
                self.labels = TANIUM_LABELS[version % 2]
            elif change == 1:
                self.docs = dict(reversed(self.docs.items()))
                self.entries = dict(reversed(self.entries.items()))
            else:
                self.settings = ADOPT if self.settings is PLAIN else PLAIN
        elif what == "squat":  # a document with the key's intrinsic id, but no marker
            ident = self.new_id()
            self.docs[ident] = dataclasses.replace(
                written(intel(key, version), ident, self.labels), description="no marker"
            )

    def _entry(self, file: int, version: int) -> None:
        want = self.files.get(file_key({"sha256": SHAS[file]}))
        if want is None:
            return
        mine = [e for e in self.entries.values() if e.sha256.lower() == want.sha256]
        ident = mine[0].id if mine and version != 0 else self.new_id()
        notes = want.notes if version < 2 else f"edited {want.notes}"
        entry = ActualBlocklist(id=ident, md5=want.md5, sha256=want.sha256.upper(), notes=notes)
        self.entries[ident] = entry

    def desired(self) -> DesiredState:
        return DesiredState(
            intel=dict(self.wants),
            blocklist=dict(self.files),
            gone=dict(self.gone),
            drift_warn=set(self.warn),
        )

    def actual(self) -> ActualState:
        """A fresh read: every object a new instance."""
        return ActualState(
            source_id=TaniumId(7),
            source_name="OpenCTI",
            intel=tuple(dataclasses.replace(d) for d in self.docs.values()),
            labels=self.labels,
            blocklist=tuple(dataclasses.replace(e) for e in self.entries.values()),
            deploy_known=self.deploy is not None,
            last_deploy_at=self.deploy,
        )


def both(memo: PlanMemo, world: World) -> tuple[Plan, Plan]:
    """`make_plan`'s plan and the memo's, each from its own fresh read; `learned` equal."""
    desired = world.desired()
    args = {
        "settings": world.settings,
        "complete": world.complete,
        "incomplete_reasons": () if world.complete else ("a page failed",),
        "now": world.now,
        "stored": dict(world.journal),
    }
    learned_ref: dict[TaniumId, tuple[str, str]] = {}
    learned_memo: dict[TaniumId, tuple[str, str]] = {}
    want = make_plan(desired, world.actual(), learned=learned_ref, **args)  # type: ignore[arg-type]
    got = memo.make(desired, world.actual(), learned=learned_memo, **args)  # type: ignore[arg-type]
    assert learned_memo == learned_ref
    world.journal.update(learned_ref)  # as the run loop records it
    return want, got


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_the_memo_plans_what_make_plan_plans_after_every_change(data: st.DataObject) -> None:
    world, memo = World(), PlanMemo()
    for _ in range(data.draw(st.integers(1, 25), label="passes")):
        for _ in range(data.draw(st.integers(1, 4), label="changes")):
            world.step(data)
        want, got = both(memo, world)
        assert got == want, memo.stats
        assert to_json(got) == to_json(want)  # what `controller.planfile.save_plan` writes


def synced(n: int) -> World:
    world = World()
    for key in KEYS[:n]:
        world.wants[key] = intel(key, 1)
        ident = world.new_id()
        world.docs[ident] = written(world.wants[key], ident, world.labels)
    for i in range(3):
        world.files[blocked(i, 0).key] = blocked(i, 0)
        world._entry(i, 1)
    return world


def test_only_the_keys_that_moved_are_joined_again() -> None:
    world, memo = synced(5), PlanMemo()
    both(memo, world)
    assert (memo.stats.mode, memo.stats.reason) == ("full", "first pass")
    assert memo.stats.recomputed == 5 + 3

    want, got = both(memo, world)  # the journal learned the 5 documents found in sync
    assert got == want
    assert (memo.stats.mode, memo.stats.intel_recomputed) == ("incremental", 5)
    want, got = both(memo, world)  # a fresh read, nothing moved
    assert got == want
    assert (memo.stats.mode, memo.stats.recomputed) == ("incremental", 0)

    world.wants[KEYS[0]] = intel(KEYS[0], 2)  # a desired item changed
    edited = next(d for d in world.docs.values() if d.intrinsic_id == KEYS[1])
    world.docs[edited.id] = dataclasses.replace(edited, md5="e" * 32)  # drift in Tanium
    world.wants[KEYS[2]] = world.wants[KEYS[2]].model_copy()  # equal, another instance
    want, got = both(memo, world)
    assert got == want
    assert [i.key for i in got.changes if i.kind == "intel"] == [KEYS[0], KEYS[1]]
    assert (memo.stats.intel_recomputed, memo.stats.blocklist_recomputed) == (3, 0)

    world.journal[edited.id] = ("e" * 32, world.wants[KEYS[1]].digest)  # the journal vouches
    want, got = both(memo, world)
    assert got == want
    assert [i.key for i in got.changes if i.kind == "intel"] == [KEYS[0]]
    assert memo.stats.intel_recomputed == 1


def test_settings_changed_joins_everything_again() -> None:
    world, memo = synced(3), PlanMemo()
    both(memo, world)
    world.settings = ADOPT
    want, got = both(memo, world)
    assert got == want
    assert (memo.stats.mode, memo.stats.reason) == ("full", "Settings changed")


def test_a_hash_held_by_another_entry_joins_the_blocklist_whole() -> None:
    world, memo = synced(2), PlanMemo()
    both(memo, world)
    both(memo, world)  # the journal learned the documents found in sync
    theirs = world.new_id()  # a SOC entry holding the md5 desired file 0 now adds
    world.entries[theirs] = ActualBlocklist(id=theirs, md5=MD5S[1], notes="SOC")
    world.files[blocked(0, 2).key] = blocked(0, 2)
    want, got = both(memo, world)
    assert got == want
    assert memo.stats.blocklist_whole.startswith("1 desired file(s) in two entries, or a hash")
    assert memo.stats.intel_recomputed == 0

    del world.entries[theirs]  # clean again: per key from the next pass on
    both(memo, world)
    want, got = both(memo, world)
    assert got == want
    assert (memo.stats.blocklist_whole, memo.stats.blocklist_recomputed) == ("", 0)


def test_a_key_no_longer_desired_is_deleted_for_its_latest_reason() -> None:
    world, memo = synced(3), PlanMemo()
    both(memo, world)
    del world.wants[KEYS[0]]
    world.gone[KEYS[0]] = Reason.REVOKED
    both(memo, world)
    world.gone[KEYS[0]] = Reason.EXCLUDED  # nothing else moved
    want, got = both(memo, world)
    assert got == want
    assert [(i.key, i.reason) for i in got.items if i.action == "delete"] == [
        (KEYS[0], Reason.EXCLUDED)
    ]


def test_drift_warn_set_on_a_drifted_key_leaves_it_as_it_is() -> None:
    world, memo = synced(3), PlanMemo()
    both(memo, world)
    both(memo, world)
    doc = next(d for d in world.docs.values() if d.intrinsic_id == KEYS[1])
    world.docs[doc.id] = dataclasses.replace(doc, md5="e" * 32)
    want, got = both(memo, world)
    assert [(i.action, i.reason) for i in got.items if i.key == KEYS[1]] == [
        ("update", Reason.DRIFT)
    ]
    world.warn = {KEYS[1]}  # nothing else moved
    want, got = both(memo, world)
    assert got == want
    assert [(i.action, i.reason) for i in got.items if i.key == KEYS[1]] == [
        ("no-op", Reason.DRIFT)
    ]
    assert memo.stats.intel_recomputed == 1


def test_a_desired_file_in_two_entries_is_joined_whole() -> None:
    """Which copy `diff_blocklist` meets first (the listing order) decides its plan."""
    world, memo = synced(1), PlanMemo()
    both(memo, world)
    first = next(e for e in world.entries.values() if e.sha256.lower() == SHAS[0])
    copy = world.new_id()
    world.entries[copy] = dataclasses.replace(first, id=copy)
    both(memo, world)
    world.entries = dict(reversed(world.entries.items()))  # nothing moved but the order
    want, got = both(memo, world)
    assert got == want
    assert memo.stats.blocklist_whole.startswith("1 desired file(s) in two entries")


def test_a_pass_that_failed_half_way_makes_the_next_one_start_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, memo = synced(2), PlanMemo()
    both(memo, world)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("half way")

    monkeypatch.setattr(memo_module, "diff_blocklist", broken)
    world.wants[KEYS[0]] = intel(KEYS[0], 2)  # the intel half is joined before it fails
    with pytest.raises(RuntimeError):
        both(memo, world)
    monkeypatch.undo()
    want, got = both(memo, world)
    assert got == want
    assert (memo.stats.mode, memo.stats.reason) == ("full", "first pass")
