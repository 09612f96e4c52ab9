"""The fast paths of finishing a desired item give what the general ones give, for any text:
text already on one line, the blocklist digest written out by hand, the marker trailer made
without a `Marker`, the models built from typed values. (A difference would change rendered
names, notes or marker digests: documents rewritten.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import DesiredBlocklist, DesiredIntel, Key
from controller.render.marker import (
    Marker,
    blocklist_digest,
    digest_of,
    marked,
    parse_marker,
    with_marker,
)
from controller.render.text import _one_line, clean, cut, header_safe, single_line

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
ASCII_WORDS = st.lists(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8),
    max_size=6,
).map(" ".join)
"""One-line text (the fast path), and near misses once spaces, tabs or ends are added."""
NEAR = st.builds(
    lambda words, pre, post, gap: pre + words.replace(" ", gap) + post,
    ASCII_WORDS,
    st.sampled_from(["", " ", "\t", "\n"]),
    st.sampled_from(["", " ", "\r\n", "\x00", "é"]),
    st.sampled_from([" ", "  ", "\t", " \n "]),
)
ANY_TEXT = st.one_of(TEXT, ASCII_WORDS, NEAR)


def outcome(fn: Callable[[], str]) -> str | type[BaseException]:
    try:
        return fn()
    except ValueError as exc:  # UnicodeEncodeError: a lone surrogate
        return type(exc)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT, st.integers(0, 70))
def test_text_already_on_one_line_is_cleaned_as_any_other(text: str, limit: int) -> None:
    reference = _one_line(text)  # the general path, taken by text that is not one line
    assert single_line(text) == reference
    assert clean(text, limit) == cut(reference, limit)
    assert header_safe(text, limit) == header_safe(reference, limit)


@pytest.mark.parametrize(
    "text",
    ["a b", "a  b", " a", "a ", "a\tb", "a\nb", "a\x00b", "a\u200bb", "é", "a\xa0b", "x" * 250, ""],
)
@pytest.mark.parametrize("limit", [0, 1, 3, 200])
def test_near_misses_of_one_line_are_cleaned_as_any_other(text: str, limit: int) -> None:
    reference = _one_line(text)
    assert single_line(text) == reference
    assert clean(text, limit) == cut(reference, limit)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["md5", "sha1", "sha256"]) | TEXT, TEXT, max_size=3),
    st.lists(TEXT, max_size=4).map(tuple),
)
def test_the_blocklist_digest_is_digest_of_the_same_fields(
    hashes: dict[str, str], labels: tuple[str, ...]
) -> None:
    assert outcome(lambda: blocklist_digest(hashes, labels)) == outcome(
        lambda: digest_of({"hashes": hashes, "labels": labels})
    )


@settings(max_examples=300, deadline=None)
@given(TEXT, st.text("abc-:/0123456789", min_size=1), st.text("0123456789abcdef"), st.none() | TEXT)
def test_the_trailer_is_the_markers(text: str, key: str, digest: str, src: str | None) -> None:
    marker = Marker(Key(key), digest, src)
    tail = f" src={src}" if src else ""
    trailer = f"[octi-tanium:v1 key={key} digest={digest}{tail}]"
    assert marker.text() == trailer
    assert with_marker(text, marker) == marked(text, key, digest, src)
    assert marked(text, key, digest, src) == (f"{text} {trailer}" if text else trailer)


def test_a_marked_text_gives_its_marker_back() -> None:
    key, digest = "file--1", "0123456789abcdef"
    assert parse_marker(marked("notes", key, digest, "8e4558a5")) == Marker(
        Key(key), digest, "8e4558a5"
    )
    assert parse_marker(marked("", key, digest)) == Marker(Key(key), digest)


def test_a_deferred_document_lists_its_fields_in_declared_order() -> None:
    doc = DesiredIntel.deferred(
        lambda: "body",
        key=Key("k"),
        intel_type="yara",
        name="n",
        description="d",
        digest="0" * 16,
        filename="k.yara",
        priority=3,
    )
    eager = [name for name in DesiredIntel.model_fields if name not in ("content", "md5")]
    assert list(doc.__dict__) == eager
    assert doc.model_fields_set == set(DesiredIntel.model_fields)
    other = DesiredIntel.deferred(
        lambda: "", key=Key("j"), intel_type="yara", name="", description="", digest=""
    )
    assert other.model_fields_set is doc.model_fields_set  # one set shared by all
    assert list(doc.model_dump()) == list(DesiredIntel.model_fields)
    assert doc == DesiredIntel.model_validate(doc.model_dump())


@settings(max_examples=100, deadline=None)
@given(TEXT, TEXT, TEXT, st.lists(TEXT, max_size=2).map(tuple), st.integers(-3, 1000))
def test_a_typed_blocklist_entry_is_model_construct_of_its_values(
    md5: str, notes: str, name: str, sources: tuple[str, ...], priority: int
) -> None:
    values: dict[str, Any] = {
        "key": Key("file--1"),
        "md5": md5,
        "sha1": "",
        "sha256": "ab" * 32,
        "notes": notes,
        "digest": "f" * 16,
        "name": name,
        "sources": sources,
        "policies": ("p",),
        "priority": priority,
    }
    typed = DesiredBlocklist.typed(**values)
    constructed = DesiredBlocklist.model_construct(set(DesiredBlocklist.model_fields), **values)
    assert typed == constructed
    assert typed.__dict__ == constructed.__dict__
    assert list(typed.__dict__) == list(constructed.__dict__) == list(DesiredBlocklist.model_fields)
    assert typed.model_fields_set == constructed.model_fields_set
    assert typed.__pydantic_extra__ is None and typed.__pydantic_private__ is None
    # a lone surrogate cannot be dumped as JSON: both refuse it alike
    assert outcome(typed.model_dump_json) == outcome(constructed.model_dump_json)
    assert DesiredBlocklist.typed(**values).model_fields_set is typed.model_fields_set
