"""`render_intel` takes a name and description that are one line of printable ASCII within
their limits as they are, without `rendered_text`'s calls, and cleans other descriptions
once per distinct text: for any text and every intel type, the document's name,
description (with its marker) and digest are what `rendered_text` gave without either."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import IntelType, Key
from controller.render.intel import render_intel, rendered_text
from controller.render.marker import intel_digest, marked
from controller.render.text import DESCRIPTION_LIMIT, NAME_LIMIT, clean, header_safe
from controller.render.types import IntelCandidate
from tests.render.test_finish_fast_paths import ANY_TEXT

LONG = st.builds(
    lambda word, count, tail: word * count + tail,
    st.sampled_from(["a", "ab ", "é", " "]),
    st.sampled_from([99, 100, 101, 199, 200, 201, 333, 500, 999, 1000, 1001]),
    st.sampled_from(["", "x", " ", "\n"]),
)
TEXT = st.one_of(ANY_TEXT, LONG)


def reference(candidate: IntelCandidate) -> tuple[str, str]:
    """`rendered_text` as it was, without its shortcuts and cache."""
    if candidate.intel_type == "yara":
        name = header_safe(candidate.name, NAME_LIMIT)
        description = header_safe(candidate.description, DESCRIPTION_LIMIT)
    else:
        name = clean(candidate.name, NAME_LIMIT)
        description = clean(candidate.description, DESCRIPTION_LIMIT)
    return name or clean(candidate.key, NAME_LIMIT), description


@settings(max_examples=500, deadline=None)
@given(
    TEXT,
    TEXT,
    st.sampled_from(["openioc", "yara", "tanium-signal"]),
    st.sampled_from([(), ("windows",)]),
)
def test_the_rendered_text_is_rendered_texts(
    name: str, description: str, intel_type: IntelType, platforms: tuple[str, ...]
) -> None:
    key = Key("url--00000000-0000-5000-8000-000000000001")
    candidate = IntelCandidate(key, intel_type, name, description, "payload", platforms)
    want_name, want_description = reference(candidate)
    assert rendered_text(candidate) == (want_name, want_description)
    assert rendered_text(candidate) == (want_name, want_description)  # from the cache
    doc = render_intel(candidate)
    digest = intel_digest(intel_type, want_name, want_description, "payload", platforms)
    assert (doc.name, doc.digest) == (want_name, digest)
    assert doc.description == marked(want_description, key, digest)
