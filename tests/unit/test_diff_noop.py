"""The diff's second round of fast paths give what the general code gives: no-op items made
positionally (`noop_of`), the label sets collected by the intel diff, the blocklist loop that
skips `_held_elsewhere` when every entry is ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.desired import DesiredState
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.common import DiffResult
from controller.core.diff.intel import diff_intel, schema_invalid
from controller.core.diff.labels import label_items, missing_labels
from controller.core.model import (
    ActualBlocklist,
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    Key,
    TaniumId,
)
from controller.core.plan import Origins, PlanItem, noop_of
from controller.core.reasons import Reason
from controller.render.canonical import file_key
from controller.render.marker import Marker, installation_id, with_marker
from tests.unit.test_diff_fast import LABEL_IDS, LABEL_NAMES, SOURCES, desired_doc

TEXT = st.text(max_size=5)


@given(
    st.sampled_from(["intel", "blocklist"]),
    TEXT,
    st.sampled_from(list(Reason)),
    TEXT,
    st.integers(0, 10**9),
    st.lists(TEXT, max_size=3).map(tuple),
    st.lists(TEXT, max_size=3).map(tuple),
)
def test_noop_of_is_the_planitem_it_stands_for(
    kind: str,
    key: str,
    reason: Reason,
    name: str,
    tanium_id: int,
    objects: tuple[str, ...],
    policies: tuple[str, ...],
) -> None:
    made = noop_of(kind, key, reason, name, tanium_id, objects, policies)  # type: ignore[arg-type]
    expected = PlanItem(
        action="no-op",
        kind=kind,  # type: ignore[arg-type]
        key=key,
        reason=reason,
        name=name,
        tanium_id=tanium_id,
        origins=Origins(objects=objects, policies=policies),
    )
    assert type(made) is PlanItem
    assert made == expected  # every field compared: one never stored would raise here
    assert repr(made) == repr(expected)


LABELS = (ActualLabel(id=TaniumId(1), name="Emotet"), ActualLabel(id=TaniumId(2), name="qakbot"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["in sync", "renamed", "missing", "other type"]),
            st.sampled_from(LABEL_IDS),
            st.sampled_from(LABEL_NAMES),
            st.sampled_from(SOURCES),
        ),
        max_size=6,
    )
)
def test_the_intel_diff_collects_every_desired_label_set(
    rows: list[tuple[str, tuple[int, ...], tuple[str, ...], tuple[str, ...]]],
) -> None:
    wants, haves = [], []
    for i, (case, label_ids, labels, sources) in enumerate(rows):
        want = desired_doc(i, "a" * 16, labels, sources)
        wants.append(want)
        if case != "missing":
            haves.append(
                ActualIntel(
                    id=TaniumId(100 + i),
                    name=want.name + ("x" if case == "renamed" else ""),
                    description=want.description,
                    intel_type="yara" if case == "other type" else want.intel_type,
                    intrinsic_id=want.key,
                    md5=want.md5,
                    label_ids=tuple(TaniumId(x) for x in label_ids),
                )
            )
    desired = DesiredState(intel={w.key: w for w in wants})
    actual = ActualState(
        source_id=TaniumId(7), source_name="OpenCTI", intel=tuple(haves), labels=LABELS
    )
    found = diff_intel(desired, actual, None).label_sets
    assert found == {w.labels for w in wants}
    assert missing_labels(found, actual) == label_items(desired, actual)


INSTALLATION = installation_id("OpenCTI")
HASHES = [f"{i:064x}" for i in range(1, 5)]


def _file(sha256: str) -> DesiredBlocklist:
    key = file_key({"sha256": sha256})
    notes = with_marker("n", Marker(key, "a" * 16, INSTALLATION))
    return DesiredBlocklist(
        key=key, sha256=sha256, notes=notes, digest="a" * 16, name=sha256, sources=SOURCES[2]
    )


def _comparable(out: DiffResult) -> tuple[object, ...]:
    return (out.items, out.deletes, out.skipped, out.diagnostics, out.owned)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(HASHES), max_size=4, unique=True),
    st.lists(
        st.tuples(
            st.sampled_from(["ours", "theirs", "ours, stale notes"]),
            st.sampled_from(HASHES),
            st.booleans(),
        ),
        max_size=6,
    ),
)
def test_the_blocklist_diff_with_every_entry_ours_is_the_general_one(
    wanted: list[str], rows: list[tuple[str, str, bool]]
) -> None:
    """An unrelated entry we do not own (another hash, on the allow list) changes nothing
    but the unowned count; with it the loop asks `_held_elsewhere` of every entry, without
    it (entries all ours, none a surplus copy) it may not."""
    files = [_file(sha) for sha in wanted]
    entries = []
    for i, (who, sha, upper) in enumerate(rows):
        mine = _file(sha)
        notes = {
            "ours": mine.notes,
            "theirs": "added by the SOC",
            "ours, stale notes": mine.notes.replace("n ", "m "),
        }[who]
        entries.append(
            ActualBlocklist(id=TaniumId(i + 1), sha256=sha.upper() if upper else sha, notes=notes)
        )
    desired = DesiredState(blocklist={f.key: f for f in files})

    def listing(extra: tuple[ActualBlocklist, ...]) -> ActualState:
        listed = (*extra, *entries)
        return ActualState(source_id=TaniumId(7), source_name="OpenCTI", blocklist=listed)

    unrelated = ActualBlocklist(id=TaniumId(99), list="whitelist", sha256="f" * 64, notes="ok")
    plain = diff_blocklist(desired, listing(()), INSTALLATION)
    general = diff_blocklist(desired, listing((unrelated,)), INSTALLATION)
    assert _comparable(plain) == _comparable(general)
    assert plain.unowned + 1 == general.unowned


def test_a_surplus_copy_listed_first_holds_the_hash_of_the_kept_entry() -> None:
    """A duplicate is not an owner (the general path's answer, kept by the fast one): listed
    before the copy that is kept, it holds the hash, and the kept entry is left as it is."""
    want = _file(HASHES[0])
    kept = ActualBlocklist(id=TaniumId(1), sha256=want.sha256, notes=want.notes)
    stale = ActualBlocklist(
        id=TaniumId(2), sha256=want.sha256, notes=want.notes.replace("n ", "m ")
    )
    actual = ActualState(source_id=TaniumId(7), source_name="OpenCTI", blocklist=(stale, kept))
    out = diff_blocklist(DesiredState(blocklist={want.key: want}), actual, INSTALLATION)
    assert [(i.action, i.reason, i.tanium_id) for i in out.items] == [("no-op", Reason.CONFLICT, 1)]
    assert [(d.reason, d.tanium_id) for d in out.deletes] == [(Reason.DUPLICATE, 2)]
    assert Key(want.key) in {s.key for s in out.skipped}


def test_an_owned_entry_no_longer_desired_is_deleted() -> None:
    gone, kept = _file(HASHES[0]), _file(HASHES[1])
    entries = tuple(
        ActualBlocklist(id=TaniumId(i), sha256=f.sha256, notes=f.notes)
        for i, f in enumerate((gone, kept), start=1)
    )
    actual = ActualState(source_id=TaniumId(7), source_name="OpenCTI", blocklist=entries)
    out = diff_blocklist(DesiredState(blocklist={kept.key: kept}), actual, INSTALLATION)
    assert [(i.action, i.tanium_id) for i in out.items] == [("no-op", 2)]
    assert [(d.key, d.reason, d.tanium_id) for d in out.deletes] == [
        (gone.key, Reason.OUT_OF_SCOPE, 1)
    ]


@given(st.lists(st.sampled_from([None, True, False]), max_size=5))
def test_schema_invalid_is_every_flagged_document(flags: list[bool | None]) -> None:
    owned = {
        Key(f"k{i}"): ActualIntel(id=TaniumId(i), name=f"doc {i}", schema_valid=flag)
        for i, flag in enumerate(flags)
    }
    found = schema_invalid(owned)
    assert [d.key for d in found] == [k for k, d in owned.items() if d.schema_valid is False]


TIMES = [
    datetime(2026, 11, day, hour, tzinfo=tz)
    for day in (1, 2)
    for hour in (0, 12)
    for tz in (UTC, timezone(timedelta(hours=2)))
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(TIMES)), max_size=6),
    st.one_of(st.none(), st.sampled_from(TIMES)),
    st.one_of(st.none(), st.sampled_from(TIMES)),
)
def test_undeployed_is_the_one_count(
    updated: list[datetime | None], last: datetime | None, settled: datetime | None
) -> None:
    """`undeployed`'s shortcut (nothing newer than the last deploy: 0) is the count."""
    docs = [ActualIntel(id=TaniumId(i), updated_at=u) for i, u in enumerate(updated)]
    actual = ActualState(
        source_id=TaniumId(7), source_name="OpenCTI", deploy_known=True, last_deploy_at=last
    )
    expected = sum(
        1
        for u in updated
        if (last is None or (u is not None and u > last))
        and (settled is None or u is None or u <= settled)
    )
    assert actual.undeployed(docs, settled=settled) == expected
