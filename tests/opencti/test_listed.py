"""`Listed`: a snapshot's objects after a pass's few changes, without sorting them all again,
are exactly what `snapshot_of` lists from the whole store — or None, and then the store is
listed in full (two objects sharing a standard id, objects not held)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.sources.opencti.fetch import snapshot_of
from controller.sources.opencti.incremental import Listed

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def indicator(internal: int, standard: int, score: int = 50) -> SourceObject:
    return SourceObject(
        standard_id=f"indicator--00000000-0000-4000-8000-{standard:012d}",
        internal_id=f"internal-{internal:04d}",
        entity_type="Indicator",
        score=score,
    )


changes = st.lists(
    st.tuples(st.sampled_from(["remove", "update", "add"]), st.integers(0, 40), st.integers(0, 40)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=25, unique=True), st.lists(changes, max_size=4))
def test_listed_after_changes_is_the_full_listing(
    standards: list[int], passes: list[list[tuple[str, int, int]]]
) -> None:
    store = {obj.internal_id: obj for obj in (indicator(i, s) for i, s in enumerate(standards))}
    snapshot = snapshot_of(store.values(), (), now=NOW, query_hash="q")
    listed = Listed.of(snapshot.objects, len(store))
    assert listed is not None  # distinct standard ids
    for number, changes_ in enumerate(passes):
        replaced, fresh = [], []
        for change, at, standard in changes_:
            keys = sorted(store)
            if change == "add" or not keys:
                obj = indicator(100 + number * 10 + len(fresh), standard)
            else:
                key = keys[at % len(keys)]
                if any(f.internal_id == key for f in fresh):
                    continue
                replaced.append(store.pop(key))
                if change == "remove":
                    continue
                obj = indicator(int(key.split("-")[1]), standard, score=number)
            if obj.internal_id in store:
                continue
            store[str(obj.internal_id)] = obj
            fresh.append(obj)
        full = snapshot_of(
            sorted(store.values(), key=lambda o: (o.standard_id, o.internal_id)),
            (),
            now=NOW,
            query_hash="q",
        )
        after = listed.after(replaced, fresh) if listed is not None else None
        if listed is not None:  # refused exactly when two objects now share a standard id
            assert (after is None) == (len(full.objects) < len(store))
        if after is not None:
            assert after.objects == list(full.objects)
            assert after.by_standard == {o.standard_id: o for o in full.objects}
        listed = after if after is not None else Listed.of(full.objects, len(store))


def test_objects_that_are_not_the_ones_held_are_refused() -> None:
    a, b = indicator(1, 1), indicator(2, 2)
    listed = Listed.of((a, b), 2)
    assert listed is not None
    copy = indicator(1, 1)  # equal to a, another instance: not what the listing holds
    assert listed.after([copy], [indicator(1, 3)]) is None
    assert listed.after([a], [indicator(1, 2)]) is None  # would share b's standard id
    moved = listed.after([a], [indicator(1, 3)])
    assert moved is not None and [o.internal_id for o in moved.objects] == [
        "internal-0002",
        "internal-0001",
    ]
    assert Listed.of((a,), 2) is None  # the snapshot held fewer: some shared a standard id
