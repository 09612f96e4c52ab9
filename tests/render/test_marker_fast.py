"""The flat ownership checks (`owned_intel_keys`, `owned_blocklist_keys`, run over every
object of a pass) give what the one-object checks give, for any description or notes."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import ActualBlocklist, ActualIntel, Key, TaniumId
from controller.render.canonical import file_key
from controller.render.marker import (
    ListingKeys,
    installation_id,
    intrinsic_ids_for,
    owned_blocklist_key,
    owned_blocklist_keys,
    owned_intel_key,
    owned_intel_keys,
    parse_marker,
)

KEYS = ["indicator--0b4cc3a2-2f9b-4c1e-9d3c-000000000001", "static:my rule", "static:a/b", "k"]
SRC = installation_id("OpenCTI")
HASHES = ["0" * 64, "A" * 64, "ab" * 20, "CD" * 16, "", "zz"]


def marker(key: str, digest: str, src: str | None) -> str:
    tail = f" src={src}" if src is not None else ""
    return f"[octi-tanium:v1 key={key} digest={digest}{tail}]"


MARKERS = st.builds(
    marker,
    st.sampled_from([*KEYS, "has space", "has]bracket", "", *(file_key({"sha256": "0" * 64}),)]),
    st.sampled_from(["0123456789abcdef", "0123456789ABCDEF", "0123", "fedcba9876543210"]),
    st.sampled_from([None, SRC, "00000000", "xyz"]),
)
TEXTS = st.builds(
    lambda head, mark, tail: head + mark + tail,
    st.sampled_from(["", "desc ", "two [octi-tanium:v1 key=k digest=0123456789abcdef] ", "ü "]),
    st.one_of(MARKERS, st.just("")),
    st.sampled_from(["", " ", "  \n", "\t", "x", "]", "\u2003"]),
)


def intrinsic_of(description: str, choice: int) -> str | None:
    marked = parse_marker(description)
    key = marked.key if marked is not None else "k"
    options = [None, key, *sorted(intrinsic_ids_for(key)), "something-else", "k.yara"]
    return options[choice % len(options)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(TEXTS, st.integers(0, 20)), max_size=6))
def test_owned_intel_keys_are_owned_intel_key(rows: list[tuple[str, int]]) -> None:
    docs = [
        ActualIntel(id=TaniumId(i), description=text, intrinsic_id=intrinsic_of(text, choice))
        for i, (text, choice) in enumerate(rows)
    ]
    assert owned_intel_keys(docs) == [owned_intel_key(d) for d in docs]


def reference_blocklist_key(
    entry: ActualBlocklist, installation: str | None, known: Mapping[Key, str] | None
) -> Key | None:
    """`owned_blocklist_key` as it was written before its fast path (through `parse_marker`)."""
    marked = parse_marker(entry.notes)
    if marked is None or entry.list != "blacklist":
        return None
    if installation is not None and marked.src != installation:
        return None
    for algorithm, value in (("sha256", entry.sha256), ("sha1", entry.sha1), ("md5", entry.md5)):
        if value:
            value = value.lower()
            if known is not None and known.get(marked.key) == value:
                return marked.key
            return marked.key if file_key({algorithm: value}) == marked.key else None
    return None


def entry_notes(sha256: str, sha1: str, md5: str, choice: int, src: str | None, text: str) -> str:
    strongest = next((v.lower() for v in (sha256, sha1, md5) if v), "")
    algorithm = "sha256" if sha256 else "sha1" if sha1 else "md5"
    own = file_key({algorithm: strongest}) if strongest else "file--none"
    key = [own, own, "file--00000000-0000-5000-8000-000000000000", "k"][choice % 4]
    return [marker(key, "0123456789abcdef", src), text, f"x {marker(key, 'ab' * 8, src)} "][
        choice % 3
    ]


ENTRIES = st.builds(
    lambda ident, lst, sha256, sha1, md5, choice, src, text: ActualBlocklist(
        id=TaniumId(ident),
        list=lst,
        sha256=sha256,
        sha1=sha1,
        md5=md5,
        notes=entry_notes(sha256, sha1, md5, choice, src, text),
    ),
    st.integers(1, 99),
    st.sampled_from(["blacklist", "blacklist", "whitelist"]),
    st.sampled_from(HASHES),
    st.sampled_from(HASHES),
    st.sampled_from(HASHES),
    st.integers(0, 11),
    st.sampled_from([SRC, SRC, None, "00000000"]),
    TEXTS,
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(ENTRIES, max_size=6),
    st.sampled_from([SRC, None, "00000000"]),
    st.booleans(),
    st.booleans(),
)
def test_owned_blocklist_keys_are_owned_blocklist_key(
    entries: list[ActualBlocklist], installation: str | None, with_known: bool, wrong: bool
) -> None:
    known: dict[Key, str] | None = None
    if with_known:  # the desired entries' strongest hashes, right or (wrong) not
        known = {}
        for e in entries:
            marked = parse_marker(e.notes)
            if marked is not None:
                known[marked.key] = "f" * 64 if wrong else (e.sha256 or e.sha1 or e.md5).lower()
    expected = [reference_blocklist_key(e, installation, known) for e in entries]
    assert [owned_blocklist_key(e, installation, known) for e in entries] == expected
    assert owned_blocklist_keys(entries, installation, known) == expected


def desired_known(values: list[str]) -> dict[Key, str]:
    """`diff_blocklist`'s `known` as a desired state gives it: each entry's key is the
    `file_key` of its strongest hash, mapped to that hash."""
    algorithm = {64: "sha256", 40: "sha1", 32: "md5"}
    return {
        file_key({algorithm[len(v)]: v.lower()}): v.lower() for v in values if len(v) in algorithm
    }


@settings(max_examples=300, deadline=None)
@given(
    st.lists(ENTRIES, max_size=6),
    st.sampled_from([SRC, None, "00000000"]),
    st.lists(st.sampled_from(HASHES), max_size=4),
)
def test_a_desired_states_known_hashes_change_no_key(
    entries: list[ActualBlocklist], installation: str | None, desired: list[str]
) -> None:
    """What lets the unowned list reuse the keys the diff found with `known` (`ListingKeys`)."""
    known = desired_known(desired)
    assert owned_blocklist_keys(entries, installation, known) == owned_blocklist_keys(
        entries, installation
    )


def test_listing_keys_are_computed_once_per_listing() -> None:
    docs = (
        ActualIntel(id=TaniumId(1), description=marker(KEYS[0], "0123456789abcdef", None)),
        ActualIntel(id=TaniumId(2), description="not ours"),
    )
    entries = (
        ActualBlocklist(
            id=TaniumId(3), sha256="0" * 64,
            notes=marker(file_key({"sha256": "0" * 64}), "0123456789abcdef", SRC),
        ),
    )  # fmt: skip
    keys = ListingKeys()
    first = keys.intel(docs)
    assert first == owned_intel_keys(docs) == [KEYS[0], None]
    assert keys.intel(docs) is first  # the same listing: not computed again
    again = keys.intel(list(docs))
    assert again is not first and again == first  # another listing (even if equal): computed
    held = keys.blocklist(entries, SRC, desired_known(["0" * 64]))
    assert held == owned_blocklist_keys(entries, SRC) == [file_key({"sha256": "0" * 64})]
    assert keys.blocklist(entries, SRC) is held
    assert keys.blocklist(entries, "00000000") == [None]  # another installation: computed
