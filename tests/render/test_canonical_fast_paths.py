"""The fast paths of `canonical_domain` and `canonical_url` (one regular expression for the
common, already-canonical shapes) give exactly what the general code gives: a different
canonical form would change a document's id and content, and every owned document would be
updated after an upgrade."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from controller.render.canonical import (
    _canonical_domain,
    _canonical_url,
    canonical_domain,
    canonical_url,
)

LABEL_CHARS = "abcXYZ019_-é.ß\u200b "
LABELS = st.text(alphabet=LABEL_CHARS, min_size=0, max_size=70)
DOMAINS = st.lists(LABELS, min_size=1, max_size=5).map(".".join) | st.text(max_size=30)
URL_CHARS = "aZ09/?#@:%.[]_~-!$&'()*+,;= \\\té"
PIECES = st.text(alphabet=URL_CHARS, max_size=12)
SCHEMES = st.sampled_from(["http", "HTTPS", "hxxp", "a+b.c-d", "1x", "", "ftp", "h%t"])
HOSTS = DOMAINS | st.sampled_from(["[::1]", "[fe80::1%eth0]", "10.0.0.1", "user@host", "h:80"])
URLS = st.builds(
    lambda scheme, sep, host, port, path, query, fragment: (
        scheme + sep + host + port + path + query + fragment
    ),
    SCHEMES,
    st.sampled_from(["://", ":/", ":", "//"]),
    HOSTS,
    st.sampled_from(["", ":8080", ":", ":x"]),
    st.sampled_from(["", "/"]) | PIECES.map(lambda p: "/" + p),
    st.sampled_from(["", "?", "?a=b", "?a=b?c"]) | PIECES.map(lambda q: "?" + q),
    st.sampled_from(["", "#", "#frag"]),
) | st.text(max_size=40)


@settings(max_examples=2000, deadline=None)
@given(value=DOMAINS)
@example("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61)  # 253 characters
@example("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)  # 254
@example("a" * 64)
@example("-a.example")
@example("host.example.")
def test_canonical_domain_fast_path(value: str) -> None:
    assert canonical_domain(value) == _canonical_domain(value)


@settings(max_examples=3000, deadline=None)
@given(value=URLS)
@example("http://host.example/payload")
@example("HTTP://Host.Example/Path?Q=1")
@example("http://host.example?")
@example("http://host.example/a?b?c")
@example("http://host.example/%41%zz")
@example("http://-bad.example/")
@example("http://host..example/")
def test_canonical_url_fast_path(value: str) -> None:
    assert canonical_url(value) == _canonical_url(value)
