"""`render_blocklist` builds its entry without validating it again: the entry is exactly the
one validated from the same values (equality, dump, JSON, hash of the dump), whatever the
hashes, labels and names."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import DesiredBlocklist, Key
from controller.render.intel import render_blocklist
from controller.render.types import FileCandidate

HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
TEXT = st.text(max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    md5=HEX,
    sha256=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    name=TEXT,
    labels=st.lists(TEXT, max_size=4).map(tuple),
    sources=st.lists(TEXT, max_size=2).map(tuple),
    policies=st.lists(TEXT, max_size=2).map(tuple),
    priority=st.integers(-5, 5),
    installation=st.none() | TEXT,
)
def test_rendered_entry_equals_validated(
    md5: str,
    sha256: str | None,
    name: str,
    labels: tuple[str, ...],
    sources: tuple[str, ...],
    policies: tuple[str, ...],
    priority: int,
    installation: str | None,
) -> None:
    hashes = {"md5": md5, **({"sha256": sha256} if sha256 else {})}
    entry = render_blocklist(
        FileCandidate(key=Key("file--1"), hashes=hashes, name=name),
        labels=labels,
        installation=installation,
        sources=sources,
        policies=policies,
        priority=priority,
    )
    validated = DesiredBlocklist.model_validate(entry.model_dump())
    assert entry == validated and validated == entry
    assert entry.model_dump() == validated.model_dump()
    assert list(entry.model_dump()) == list(DesiredBlocklist.model_fields)
    assert entry.model_dump_json() == validated.model_dump_json()
    assert entry.uploaded_hash == (sha256 or md5.lower())
