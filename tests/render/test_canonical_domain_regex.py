"""`_PLAIN_DOMAIN` (written not to backtrack) reads exactly what the plain form of the rule
reads, and a label is its characters in full (a newline is not one)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from controller.render.canonical import _PLAIN_DOMAIN, canonical_domain, canonical_value

_PLAIN_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
RULE = re.compile(rf"(?:{_PLAIN_LABEL}\.)*{_PLAIN_LABEL}")
"""The rule as it was first written (a label: a first character, up to 61, a last one)."""

LABELS = st.text(alphabet="ab9_-.", max_size=8) | st.integers(58, 68).map(lambda n: "a" * n)


@settings(max_examples=3000, deadline=None)
@given(st.lists(LABELS, max_size=5).map(".".join) | st.text(max_size=20))
@example("-")
@example("a-")
@example("a" * 63 + ".b")
@example("a" * 64 + ".b")
@example("a.\n")
def test_the_regular_expression_is_the_rule(value: str) -> None:
    assert bool(_PLAIN_DOMAIN.fullmatch(value)) == bool(RULE.fullmatch(value))


def test_a_newline_ends_no_label() -> None:
    for value in ("abc\n.example", "abc.example\n.org", "ABC\n.example"):
        assert canonical_domain(value) is None
        assert canonical_value("Domain-Name", value) is None
    assert canonical_domain(" Abc.Example. ") == "abc.example"  # around the name: stripped
