"""A hash is exactly its hex digits: a trailing newline is not one (`$` matched before it)."""

from __future__ import annotations

import pytest

from controller.core.model import SourceObject
from controller.render import canonical_hashes, convert
from controller.render.canonical import hash_problem

MD5 = "a" * 32


@pytest.mark.parametrize("value", ["a" * 31 + "\n", MD5 + "\n", "a" * 30 + "\n\n", "\n" + "a" * 31])
def test_a_newline_is_not_a_hex_digit(value: str) -> None:
    assert hash_problem("md5", value) is not None
    assert canonical_hashes({"MD5": value}) == {}


def test_a_hash_is_still_a_hash() -> None:
    assert hash_problem("md5", MD5.upper()) is None
    assert canonical_hashes({"MD5": MD5.upper()}) == {"md5": MD5}


def test_a_file_with_a_newline_in_its_hash_is_skipped_not_cut_short() -> None:
    obj = SourceObject(
        standard_id="file--1", entity_type="StixFile", hashes={"MD5": "a" * 31 + "\n"}
    )
    conversion = convert(obj)
    assert not conversion.files and conversion.skip_reason is not None
    assert "not 32 hex digits" in conversion.skip_reason


@pytest.mark.parametrize("value", ["a" * 31 + "\n", "a" * 39 + "\n", "a" * 63 + "\n"])
def test_a_policy_hash_with_a_newline_is_refused(value: str) -> None:
    """The policies' own hash check (static blocklist values) reads it the same way."""
    from controller.policy.fields import hash_problem as policy_hash_problem

    problem = policy_hash_problem(value)
    assert problem is not None and "not a hex digit" in problem


def test_an_entry_with_a_newline_in_its_hash_is_refused_before_it_is_sent() -> None:
    from controller.core.model import DesiredBlocklist, Key
    from controller.tanium.content import check_entry
    from controller.tanium.errors import RejectedError

    entry = DesiredBlocklist(
        key=Key("file--1"), md5="a" * 31 + "\n", notes="n", digest="0" * 16, name="f"
    )
    with pytest.raises(RejectedError, match="malformed hash"):
        check_entry(entry, "/api/v2/reputation")
