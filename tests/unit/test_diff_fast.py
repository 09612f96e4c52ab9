"""The diff's fast paths (the flat no-op loops, the owned split built in C, the plan values
made without their `__init__`) give what the general code gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.desired import DesiredState
from controller.core.diff.blocklist import _compare, diff_blocklist
from controller.core.diff.common import noop_item, owned_split
from controller.core.diff.intel import diff_intel
from controller.core.diff.plan import _drift_left, drift_split
from controller.core.labels import label_key
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
from controller.core.plan import Origins, PlanItem, _intel_lines, intel_line, origins_of
from controller.core.reasons import Reason
from controller.render.canonical import file_key
from controller.render.marker import Marker, installation_id, with_marker
from controller.tanium import mapping

LABELS = (ActualLabel(id=TaniumId(1), name="Emotet"), ActualLabel(id=TaniumId(2), name="qakbot"))
LABEL_IDS = [(), (1,), (2, 1), (1, 2), (3,), (1, 1)]
LABEL_NAMES = [(), ("emotet",), ("Emotet", "qakbot"), ("qakbot",), ("other",)]
SOURCES = [("indicator--1",), ("static:rule",), ("indicator--1", "static:rule", "indicator--2")]


def desired_doc(
    i: int, digest: str, labels: tuple[str, ...], sources: tuple[str, ...]
) -> DesiredIntel:
    key = Key(f"indicator--{i}")
    return DesiredIntel(
        key=key,
        intel_type="openioc",
        name=f"doc {i}",
        description=with_marker("desc", Marker(key, digest)),
        content=f"<ioc {i}/>",
        md5=f"md5-{i}",
        digest=digest,
        labels=labels,
        sources=sources,
        policies=("p",),
    )


Row = tuple[bool, bool, str, str, tuple[int, ...], tuple[str, ...], tuple[str, ...], bool]
# per document: digest changed?, name changed?, md5 Tanium reports, journal entry, Tanium's
# labels, the desired labels, sources, same type?
ROWS = st.tuples(
    st.booleans(),
    st.booleans(),
    st.sampled_from(["same", "other"]),
    st.sampled_from(["none", "vouches", "stale md5", "stale digest"]),
    st.sampled_from(LABEL_IDS),
    st.sampled_from(LABEL_NAMES),
    st.sampled_from(SOURCES),
    st.booleans(),
)


def label_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(label_key(n) for n in names)


@settings(max_examples=300, deadline=None)
@given(st.lists(ROWS, max_size=6))
def test_the_flat_no_op_is_what_the_general_comparison_gives(
    rows: list[Row],
) -> None:
    wants, haves, journal = [], [], {}
    for i, (moved, renamed, md5, vouch, label_ids, labels, sources, typed) in enumerate(rows):
        want = desired_doc(i, "a" * 16, labels, sources)
        listed = desired_doc(i, "b" * 16 if moved else "a" * 16, labels, sources)
        have = ActualIntel(
            id=TaniumId(100 + i),
            name=want.name + ("x" if renamed else ""),
            description=listed.description,
            intel_type=want.intel_type if typed else "yara",
            intrinsic_id=want.key,
            md5=want.md5 if md5 == "same" else "tanium's own md5",
            label_ids=tuple(TaniumId(x) for x in label_ids),
        )
        if vouch != "none":
            journal[have.id] = (
                "stale" if vouch == "stale md5" else have.md5,
                "c" * 16 if vouch == "stale digest" else want.digest,
            )
        wants.append(want)
        haves.append(have)
    desired = DesiredState(intel={w.key: w for w in wants})
    actual = ActualState(
        source_id=TaniumId(7), source_name="OpenCTI", intel=tuple(haves), labels=LABELS
    )
    learned: dict[TaniumId, tuple[str, str]] = {}
    items = {i.key: i for i in diff_intel(desired, actual, None, journal, learned).items}
    names = {label.id: label.name for label in LABELS}
    expected_learned = {}
    for want, have in zip(wants, haves, strict=True):
        vouched = journal.get(have.id)
        by_journal = vouched is not None and vouched == (have.md5, want.digest)
        same_type = have.intel_type == want.intel_type
        if same_type and not by_journal and have.md5 == want.md5:
            expected_learned[have.id] = (have.md5, want.digest)
        in_sync = (
            have.description == want.description
            and have.name == want.name
            and same_type
            and (by_journal or have.md5 == want.md5)
            and label_set(names.get(i, f"#{i}") for i in have.label_ids) == label_set(want.labels)
        )
        item = items[want.key]
        if in_sync:
            assert item == noop_item("intel", want, have.id)
        else:
            assert item.action != "no-op"
    assert learned == expected_learned


def blocklist_key(sha256: str) -> Key:
    return file_key({"sha256": sha256})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["same", "upper", "other"]),
            st.sampled_from(["", "0" * 32]),
            st.booleans(),
        ),
        max_size=5,
    )
)
def test_the_flat_blocklist_no_op_is_what_compare_gives(
    rows: list[tuple[str, str, bool]],
) -> None:
    installation = installation_id("OpenCTI")
    wants, haves = [], []
    for i, (case, md5, same_notes) in enumerate(rows):
        sha256 = f"{i:064x}"
        key = blocklist_key(sha256)
        notes = with_marker("n", Marker(key, "a" * 16, installation))
        want = DesiredBlocklist(
            key=key, sha256=sha256, md5=md5, notes=notes, digest="a" * 16, name=sha256
        )
        held = {"same": sha256, "upper": sha256.upper(), "other": f"{i + 100:064x}"}[case]
        have = ActualBlocklist(
            id=TaniumId(i + 1),
            sha256=held if case != "other" else sha256,
            md5="" if case == "other" else md5.upper(),
            notes=notes if same_notes else notes.replace("n ", "m "),
        )
        wants.append(want)
        haves.append(have)
    desired = DesiredState(blocklist={w.key: w for w in wants})
    actual = ActualState(source_id=TaniumId(7), source_name="OpenCTI", blocklist=tuple(haves))
    items = diff_blocklist(desired, actual, installation).items
    assert items == [_compare(w, h, w.key) for w, h in zip(wants, haves, strict=True)]


def reference_split(
    objects: list[ActualIntel],
    key_of: Callable[[ActualIntel], Key | None],
    prefer: Callable[[Key, ActualIntel], bool],
) -> tuple[dict[Key, ActualIntel], list[ActualIntel], list[ActualIntel]]:
    """`owned_split` as it was written before the dict built in C (one loop)."""
    owned: dict[Key, ActualIntel] = {}
    unowned: list[ActualIntel] = []
    duplicates: list[ActualIntel] = []
    for obj in objects:
        key = key_of(obj)
        if key is None:
            unowned.append(obj)
            continue
        kept = owned.get(key)
        if kept is None:
            owned[key] = obj
            continue
        rank_new = (0 if prefer(key, obj) else 1, obj.id)
        rank_kept = (0 if prefer(key, kept) else 1, kept.id)
        if rank_new < rank_kept:
            owned[key] = obj
            duplicates.append(kept)
        else:
            duplicates.append(obj)
    duplicates.sort(key=lambda o: o.id)
    return owned, unowned, duplicates


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.sampled_from([None, "a", "b", "c", "d", "e"])),
        max_size=8,
    ),
    st.sets(st.integers(1, 30)),
)
def test_owned_split_is_the_one_loop(
    rows: list[tuple[int, str | None]], preferred: set[int]
) -> None:
    objects = [ActualIntel(id=TaniumId(i), name=str(k)) for i, k in rows]
    keys = [None if k is None else Key(k) for _, k in rows]

    def prefer(key: Key, obj: ActualIntel) -> bool:
        return obj.id in preferred

    found = owned_split(objects, keys, prefer)
    expected = reference_split(objects, lambda o: None if o.name == "None" else Key(o.name), prefer)
    assert found == expected
    assert list(found[0]) == list(expected[0])  # the same order too


ACTIONS = st.sampled_from(["create", "update", "delete", "no-op"])
REASONS = st.sampled_from([Reason.DRIFT, Reason.CHANGED, Reason.IN_SYNC])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(ACTIONS, REASONS, st.sampled_from(["a", "b", "c"])), max_size=6),
    st.sets(st.sampled_from(["a", "b"])),
)
def test_drift_split_is_the_one_loop(rows: list[tuple[str, Reason, str]], warn: set[str]) -> None:
    items = [
        PlanItem(action=a, kind="intel", key=k, reason=r)  # type: ignore[arg-type]
        for a, r, k in rows
    ]
    kept, warned = drift_split(iter(items), frozenset(warn))
    drifted = [i.action == "update" and i.reason == Reason.DRIFT and i.key in warn for i in items]
    assert kept == [i for i, d in zip(items, drifted, strict=True) if not d]
    assert warned == [_drift_left(i) for i, d in zip(items, drifted, strict=True) if d]


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**6),
            st.sampled_from(["", "abc"]),
            st.one_of(st.none(), st.integers(0, 9)),
            st.lists(st.integers(1, 20), max_size=3).map(tuple),
        ),
        max_size=8,
    )
)
def test_the_fingerprint_lines_are_intel_line(
    rows: list[tuple[int, str, int | None, tuple[int, ...]]],
) -> None:
    docs = [
        ActualIntel(
            id=TaniumId(i), md5=m, revision_id=r, label_ids=tuple(TaniumId(x) for x in labels)
        )
        for i, m, r, labels in rows
    ]
    assert _intel_lines(docs) == [intel_line(d) for d in docs]


@given(st.sampled_from(SOURCES), st.sampled_from([(), ("p",), ("p", "q")]))
def test_origins_of_is_origins(objects: tuple[str, ...], policies: tuple[str, ...]) -> None:
    made = origins_of(objects, policies)
    assert made == Origins(objects=objects, policies=policies)
    assert type(made) is Origins
    assert repr(made) == repr(Origins(objects=objects, policies=policies))
    assert hash(made) == hash(Origins(objects=objects, policies=policies))


def test_what_is_made_without_init_has_every_field() -> None:
    """The descriptors `origins_of` and the Tanium mapping store through are all the fields:
    a field added to one of these classes must be added there too."""
    assert tuple(f.name for f in dataclasses.fields(Origins)) == ("objects", "policies")
    fields = tuple(f.name for f in dataclasses.fields(ActualIntel))
    assert fields == mapping.FAST_INTEL_FIELDS
    assert tuple(f.name for f in dataclasses.fields(ActualBlocklist)) == mapping.FAST_ENTRY_FIELDS
