"""The Tanium emulator's replies are byte for byte what `json.dumps` (compact, UTF-8) writes,
whichever encoder wrote them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from octi_sandbox.tanium.web import json_bytes

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(),  # control characters, quotes, backslashes, astral planes
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def reference(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@settings(max_examples=500, deadline=None)
@given(values)
def test_the_same_bytes_as_json_dumps(value: Any) -> None:
    assert json_bytes(value) == reference(value)


def test_what_the_fast_encoder_refuses_still_encodes() -> None:
    for value in ({"big": 2**70}, {1: "an integer key"}, [{"n": -(2**64)}]):
        assert json_bytes(value) == reference(value)
