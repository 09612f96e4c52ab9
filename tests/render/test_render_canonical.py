"""Canonicalization: examples and properties (idempotent, spelling-insensitive)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.render import canonical_hashes, canonical_value
from controller.render.canonical import hash_algorithm

TYPES = ["IPv4-Addr", "IPv6-Addr", "Domain-Name", "Hostname", "Url"]


@pytest.mark.parametrize(
    ("entity_type", "value", "expected"),
    [
        ("IPv4-Addr", " 198.51.100.7 ", "198.51.100.7"),
        ("IPv4-Addr", "198.51.100.7/32", "198.51.100.7"),
        ("IPv4-Addr", "010.1.1.1", None),
        ("IPv4-Addr", "2001:db8::1", None),
        ("IPv6-Addr", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("Domain-Name", "Evil.Example.", "evil.example"),
        ("Domain-Name", "Bücher.example", "xn--bcher-kva.example"),
        ("Domain-Name", "_dmarc.example.com", "_dmarc.example.com"),
        ("Domain-Name", "not a domain", None),
        ("Url", "HTTPS://Evil.Example:8443/A?B=C", "https://evil.example:8443/A?B=C"),
        ("Url", "Evil.Example/Path", "evil.example/Path"),
        ("Url", "http://[2001:DB8::1]/x", "http://[2001:db8::1]/x"),
        ("Mutex", "x", None),
    ],
)
def test_canonical_value_examples(entity_type: str, value: str, expected: str | None) -> None:
    assert canonical_value(entity_type, value) == expected


@pytest.mark.parametrize("spelling", ["SHA256", "SHA-256", "'SHA-256'", "sha256", "sha_256"])
def test_hash_names_in_any_spelling(spelling: str) -> None:
    assert hash_algorithm(spelling) == "sha256"


def test_canonical_hashes_lowercases_and_drops_malformed() -> None:
    hashes = {"MD5": "D41D8CD98F00B204E9800998ECF8427E", "SHA-1": "xyz", "SSDEEP": "3:a:b"}
    assert canonical_hashes(hashes) == {"md5": "d41d8cd98f00b204e9800998ecf8427e"}


values = st.one_of(
    st.text(max_size=40),
    st.ip_addresses().map(str),
    st.from_regex(r"[A-Za-z0-9-]{1,10}(\.[A-Za-zäöü0-9-]{1,10}){1,3}\.?", fullmatch=True),
    st.from_regex(
        r"(HTTP|https|ftp)://[A-Za-z0-9.-]{1,20}(:[0-9]{1,5})?/[ -~]{0,20}", fullmatch=True
    ),
)


@given(st.sampled_from(TYPES), values)
def test_canonicalization_is_idempotent(entity_type: str, value: str) -> None:
    once = canonical_value(entity_type, value)
    if once is not None:
        assert canonical_value(entity_type, once) == once


HASH_NAMES = st.sampled_from(["MD5", "md5", "SHA-1", "SHA1", "SHA-256", "x"])
HEX = st.from_regex(r"[0-9a-fA-F]{32,64}", fullmatch=True)


@given(st.dictionaries(HASH_NAMES, st.one_of(st.text(max_size=70), HEX)))
def test_canonical_hashes_is_idempotent(hashes: dict[str, str]) -> None:
    once = canonical_hashes(hashes)
    assert canonical_hashes(once) == once
    assert all(v == v.lower() for v in once.values())
