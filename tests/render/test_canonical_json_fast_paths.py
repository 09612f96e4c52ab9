"""The canonical JSON written out by hand on the hot path equals `json.dumps`'s, for any text:
the marker digest of a document, the payload of a single-term OpenIOC tree, the id of an
atomic observable. (A difference would change every marker digest or key: every document
of every user rewritten.)"""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.render import openioc
from controller.render.canonical import sco_id, value_key
from controller.render.marker import digest_of, intel_digest

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
TEXT_HOSTILE = st.one_of(TEXT, st.sampled_from(['"', "\\", "\x00", "\u2028", "é", "😀", "\ud800"]))


def outcome(fn: Callable[[], str]) -> str | type[BaseException]:
    """The result, or the type of the error (a lone surrogate cannot be hashed either way)."""
    try:
        return fn()
    except ValueError as exc:  # UnicodeEncodeError
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["openioc", "yara", "tanium-signal", "stix"]) | TEXT,
    TEXT_HOSTILE,
    TEXT_HOSTILE,
    TEXT_HOSTILE,
    st.lists(TEXT_HOSTILE, max_size=4).map(tuple),
)
def test_intel_digest_is_digest_of_the_same_fields(
    intel_type: str, name: str, description: str, payload: str, platforms: tuple[str, ...]
) -> None:
    fields = {
        "type": intel_type,
        "name": name,
        "description": description,
        "payload": payload,
        "platforms": list(platforms),
    }
    assert outcome(lambda: intel_digest(intel_type, name, description, payload, platforms)) == (
        outcome(lambda: digest_of(fields))
    )


@settings(max_examples=300, deadline=None)
@given(TEXT_HOSTILE, TEXT_HOSTILE, TEXT_HOSTILE, TEXT_HOSTILE)
def test_a_single_term_payload_is_the_json_of_its_tree(
    search: str, content_type: str, value: str, condition: str
) -> None:
    tree = openioc.term(search, content_type, value, condition)
    expected = json.dumps(
        openioc.root(tree), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert openioc.payload_of(tree) == expected
    both = openioc.node("AND", [tree, openioc.term(search, content_type, value + "x")])
    assert openioc.payload_of(both) == json.dumps(
        both, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["ipv4-addr", "IPv6-Addr", "Domain-Name", "hostname", "Url"]), TEXT_HOSTILE)
def test_value_key_is_the_sco_id_of_the_value(entity_type: str, value: str) -> None:
    kind = entity_type.lower()
    assert outcome(lambda: value_key(entity_type, value)) == outcome(
        lambda: sco_id(kind, {"value": value})
    )
