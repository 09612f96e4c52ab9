"""`UnownedMemo`: across passes, what is not ours is what `unowned_objects` says, whichever
objects are kept (the very instances of the last pass), replaced, edited or new."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.foreign import UnownedMemo, unowned_objects
from controller.core.model import ActualBlocklist, ActualIntel, ActualState, Key, TaniumId
from controller.render.marker import Marker, with_marker

SOURCE = "OpenCTI"
SHA = "ab" * 32


def doc(ident: int, kind: int) -> ActualIntel:
    """0: ours; 1: no marker; 2: a copied marker (intrinsic id of another key)."""
    key = Key(f"ipv4-addr--00000000-0000-4000-8000-{ident:012d}")
    marked = with_marker("d", Marker(key, "d" * 16))
    return ActualIntel(
        id=TaniumId(ident),
        name=f"doc {ident}",
        description=marked if kind != 1 else "made by hand",
        intrinsic_id=key if kind != 2 else "something-else",
    )


def entry(ident: int, kind: int) -> ActualBlocklist:
    """0: another installation's marker; 1: no marker; 2: an allowlist entry."""
    notes = with_marker("e", Marker(Key("file--x"), "f" * 16, "elsewhere")) if kind == 0 else "n"
    listed = "whitelist" if kind == 2 else "blacklist"
    return ActualBlocklist(id=TaniumId(ident), list=listed, sha256=SHA, notes=notes)


def state(docs: list[ActualIntel], entries: list[ActualBlocklist], source: str) -> ActualState:
    return ActualState(
        source_id=TaniumId(1), source_name=source, intel=tuple(docs), blocklist=tuple(entries)
    )


step = st.lists(
    st.tuples(
        st.sampled_from(["keep", "same-again", "edit", "drop", "new"]),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=6), st.booleans())
def test_the_memo_says_what_unowned_objects_says_after_any_passes(
    passes: list[list[tuple[str, int]]], rename: bool
) -> None:
    memo = UnownedMemo()
    docs = [doc(i, i % 3) for i in range(6)]
    entries = [entry(100 + i, i % 3) for i in range(3)]
    source = SOURCE
    for number, changes in enumerate(passes):
        for n, (change, kind) in enumerate(changes):
            at = n % len(docs) if docs else 0
            if change == "same-again" and docs:
                docs[at] = replace(docs[at])  # equal, another instance
            elif change == "edit" and docs:
                docs[at] = doc(int(docs[at].id), kind)
                entries[n % len(entries)] = entry(int(entries[n % len(entries)].id), kind)
            elif change == "drop" and docs:
                docs.pop(at)
            elif change == "new":
                docs.append(doc(1000 + number * 10 + n, kind))
        if rename and number == 2:
            source = "Another source"  # another installation id: another verdict for entries
        actual = state(docs, entries, source)
        assert memo(actual) == unowned_objects(actual)


def test_an_object_seen_before_is_not_judged_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import controller.core.foreign as foreign

    judged: list[int] = []
    owned = foreign.owned_intel_key

    def counted(d: ActualIntel) -> Key | None:
        judged.append(int(d.id))
        return owned(d)

    monkeypatch.setattr(foreign, "owned_intel_key", counted)
    memo = UnownedMemo()
    docs = [doc(i, i % 3) for i in range(5)]
    first = memo(state(docs, [], SOURCE))
    docs[1] = doc(1, 0)  # replaced: judged again
    second = memo(state(docs, [], SOURCE))
    assert judged == [0, 1, 2, 3, 4, 1]
    assert [u.tanium_id for u in first] == [1, 2, 4] and [u.tanium_id for u in second] == [2, 4]
