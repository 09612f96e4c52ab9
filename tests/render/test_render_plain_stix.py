"""`convert`'s fast path for plain STIX patterns gives exactly what the tree path gives.

Most indicators are `[ipv4-addr:value = '…']`, `[file:hashes.'SHA-256' = '…']`, a domain or a
URL; `_plain_stix` renders them without the pattern tree, the term tree and the atomic value.
A difference in a key, a name or a payload byte would rewrite every such document after an
upgrade, so both are compared here: on every pattern of the corpus and on generated ones.
"""

from __future__ import annotations

import json
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.render.canonical import hash_algorithm
from controller.render.convert import _plain_stix, _stix, convert
from controller.render.stix_pattern import PLAIN, _simple
from tests.corpus_files import CORPUS

RECORDS = json.loads((CORPUS / "stix/patterns/stix21-patterns.json").read_text("utf-8"))["records"]


def _indicator(pattern: str, description: str = "desc") -> SourceObject:
    return SourceObject(
        standard_id="indicator--00000000-0000-4000-8000-000000000001",
        entity_type="Indicator",
        name="an indicator",
        description=description,
        pattern=pattern,
        pattern_type="stix",
    )


def _agree(pattern: str, description: str = "desc") -> bool:
    """Whether the fast path took the pattern; when it did, the tree path gives the same."""
    obj = _indicator(pattern, description)
    taken = False
    for to_blocklist in (True, False):
        fast = _plain_stix(obj, pattern, to_blocklist)
        if fast is not None:
            taken = True
            assert _simple(pattern) is not None  # `PLAIN` reads a subset of `_SIMPLE`
            assert fast == _stix(obj, to_blocklist)
            assert fast == convert(obj, hash_patterns_to_blocklist=to_blocklist)
    return taken


def test_the_corpus_patterns_agree() -> None:
    stix = [r["pattern"] for r in RECORDS if str(r["pattern_type"]).lower() == "stix"]
    taken = [pattern for pattern in stix if _agree(pattern)]
    assert taken  # the corpus has plain patterns: the comparison is not vacuous


def test_the_fast_path_covers_the_common_shapes() -> None:
    sha256 = "A" * 32 + "b" * 32
    for pattern in (
        "[ipv4-addr:value = '198.51.100.7']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[domain-name:value = 'evil.example']",
        "[hostname:value = 'Host.Example.']",
        "[url:value = 'http://evil.example/payload?x=1']",
        f"[file:hashes.'SHA-256' = '{sha256}']",
        f"[file:hashes.SHA256 = '{sha256}']",
        f"[file:hashes.'SHA-1' = '{sha256[:40]}']",
        f"[file:hashes.MD5 = '{sha256[:32]}']",
        f"[ file:hashes.'MD5'\n=\t'{sha256[:32]}' ]",
    ):
        assert _agree(pattern), pattern


def test_what_the_fast_path_leaves_to_the_tree_path() -> None:
    for pattern in (
        "[ipv4-addr:value = '10.0.0.0/8']",  # a CIDR range: skipped, with its message
        "[ipv4-addr:value = '300.1.1.1']",  # not an address
        "[domain-name:value = 'bad_label-.example']",
        "[file:hashes.MD5 = 'not-a-hash']",
        "[file:hashes.MD5 = '" + "a" * 31 + "']",
        "[file:value = 'x']",
        "[domain-name:value = 'it\\'s.example']",  # an escape: the general reader unescapes
        "[domain-name:value = 'é.example']",  # non-ASCII
        "[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '1.2.3.5']",
    ):
        assert not _agree(pattern), pattern


TYPES = st.sampled_from(
    ["ipv4-addr", "ipv6-addr", "domain-name", "hostname", "url", "file", "x-opencti-hostname"]
)
PATHS = st.sampled_from(
    [
        "value",
        "hashes.MD5",
        "hashes.SHA1",
        "hashes.SHA256",
        "hashes.'SHA-256'",
        "hashes.'SHA-1'",
        "hashes.'MD5'",
        "hashes.'SHA256'",
        "name",
    ]
)
OCTET = st.integers(0, 300).map(str) | st.sampled_from(["00", "010", "255", "256"])
VALUES = st.one_of(
    st.tuples(OCTET, OCTET, OCTET, OCTET).map(".".join),
    st.tuples(st.tuples(OCTET, OCTET, OCTET, OCTET).map(".".join), st.integers(0, 40)).map(
        lambda t: f"{t[0]}/{t[1]}"
    ),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),
    st.from_regex(r"[A-Za-z0-9_-]{1,8}(\.[A-Za-z0-9_-]{1,8}){0,3}\.?", fullmatch=True),
    st.from_regex(
        r"[A-Za-z]{1,5}://[A-Za-z0-9._-]{1,12}(:[0-9]{1,5})?(/[A-Za-z0-9/%?#&=._~-]{0,15})?",
        fullmatch=True,
    ),
    st.from_regex(r"[0-9a-fA-F]{31,33}|[0-9a-fA-F]{39,41}|[0-9a-fA-F]{63,65}", fullmatch=True),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    st.text(st.sampled_from("aZ9.-_:/ '\\\"\t\né"), max_size=12),
)
SPACE = st.sampled_from(["", " ", "\t", "\n ", "\r\n", "  "])


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@settings(max_examples=1500, deadline=None)
@given(TYPES, PATHS, VALUES, SPACE, SPACE, SPACE, SPACE, st.sampled_from(["", "d\n\"<&>'"]))
@example("ipv4-addr", "value", "1.2.3.4", "", " ", " ", "", "")
@example("url", "value", 'http://a.example/"q"', "", " ", " ", "", "")
@example("domain-name", "value", "A.example.", "", " ", " ", "", "")
def test_generated_patterns_agree(
    kind: str, path: str, value: str, s1: str, s2: str, s3: str, s4: str, description: str
) -> None:
    _agree(f"[{s1}{kind}:{path}{s2}={s3}{_literal(value)}{s4}]", description)


@given(st.text(max_size=40))
def test_generated_text_agrees(pattern: str) -> None:
    _agree(pattern)


@given(
    st.sampled_from(["MD5", "SHA-1", "SHA-256", "SHA1", "SHA256", "md5", "sha1", "sha256"]).map(
        lambda name: f"'{name}'"
    )
    | st.sampled_from(["sha-1", "Sha_256", "sha 1", "MD5 ", "sha512", "SHA3-256", "'SHA-256"])
    | st.text(max_size=10)
)
def test_hash_algorithm_of_the_usual_spellings_is_the_general_rule(name: str) -> None:
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    assert hash_algorithm(name) == (flat if flat in ("md5", "sha1", "sha256") else None)


def test_plain_reads_what_its_docstring_says() -> None:
    match = PLAIN.fullmatch("[file:hashes.'SHA-1' = 'ab']")
    assert match is not None and match.groups() == (None, "'SHA-1'", "ab")
    match = PLAIN.fullmatch("[url:value = 'http://x.example/']")
    assert match is not None and match.groups() == ("url", None, "http://x.example/")
    assert PLAIN.fullmatch("[url:value = 'a\\'b']") is None
