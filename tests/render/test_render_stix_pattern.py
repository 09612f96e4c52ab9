"""The pattern reader: the fast path agrees with the grammar; hostile values stay safe."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from controller.core.model import SourceObject
from controller.render import convert, render_intel
from controller.render.stix_pattern import _parse, _simple

TYPES = st.sampled_from(["ipv4-addr", "ipv6-addr", "domain-name", "hostname", "url", "file"])
PATHS = st.sampled_from(
    ["value", "hashes.MD5", "hashes.SHA1", "hashes.SHA256", "hashes.'SHA-256'", "hashes.'MD5'"]
)
VALUES = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.from_regex(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", fullmatch=True),
    st.text(st.sampled_from("ab'\\ \n."), max_size=10),
)
SPACE = st.sampled_from(["", " ", "\t", "\n ", "  "])


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@settings(max_examples=300, deadline=None)
@given(TYPES, PATHS, VALUES, SPACE, SPACE, SPACE, SPACE)
def test_fast_path_gives_the_grammars_tree(
    kind: str, path: str, value: str, s1: str, s2: str, s3: str, s4: str
) -> None:
    pattern = f"[{s1}{kind}:{path}{s2}={s3}{_literal(value)}{s4}]"
    fast = _simple(pattern)
    if fast is not None:
        assert fast == _parse(pattern)


def test_fast_path_covers_the_common_patterns() -> None:
    assert _simple("[domain-name:value = 'evil.example']") is not None
    assert _simple("[file:hashes.'SHA-256' = '" + "a" * 64 + "']") is not None
    assert _simple("[file:hashes.MD5 = 'not-a-hash']") is None  # the validator must say why


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=50))
def test_hostile_file_name_value_renders_well_formed_xml_or_is_skipped(value: str) -> None:
    pattern = f"[file:name = {_literal(value)} OR url:value = {_literal(value)}]"
    obj = SourceObject(
        standard_id="indicator--1", entity_type="Indicator", pattern=pattern, pattern_type="stix"
    )
    conversion = convert(obj)
    if conversion.skip_reason is not None:
        assert not conversion.intel
        return
    for candidate in conversion.intel:
        desired = render_intel(candidate)
        root = etree.fromstring(desired.content.encode("utf-8"))
        assert value in [c.text or "" for c in root.iter("{*}Content")]
