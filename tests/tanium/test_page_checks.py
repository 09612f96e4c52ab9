"""A listing page's checks take a path in C for the common page (every item a dict with an id);
any other page gets the item-by-item checks, which name the culprit. Both give what the
item-by-item checks alone gave: the same page, or the same error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.tanium.errors import ProtocolError
from controller.tanium.mapping import _dicts
from controller.tanium.pagination import _Collected
from controller.tanium.transport import Reply


class _Dict(dict[str, Any]):
    """A dict subclass: not what JSON decodes to, accepted all the same."""


def _reference_checked(page: Any, what: str, offset: int) -> list[Any]:
    """`_Collected.checked` as it was, item by item."""
    if page is None:
        return []
    if not isinstance(page, list):
        raise ProtocolError(f"{what}: expected a list page, got {type(page).__name__}")
    for item in page:
        if not isinstance(item, dict) or item.get("id") is None:
            raise ProtocolError(
                f"{what}: an item at offset {offset} has no id", body=repr(item)[:200]
            )
    return page


def _reference_dicts(raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise ProtocolError("expected a list of objects", path=where, body=repr(raw)[:200])
    return raw


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
items = st.one_of(
    st.builds(lambda i, x: {"id": i, "x": x}, scalars, scalars),
    st.builds(lambda x: {"x": x}, scalars),
    st.builds(lambda i: _Dict(id=i), scalars),
    scalars,
    st.lists(scalars, max_size=2),
)
pages = st.one_of(
    st.none(), st.lists(items, max_size=8), scalars, st.dictionaries(st.text(), scalars)
)


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ProtocolError as exc:
        return "error", (str(exc), exc.body)


@settings(max_examples=400, deadline=None)
@given(page=pages, offset=st.integers(min_value=0, max_value=10_000))
def test_checked_is_the_item_by_item_check(page: Any, offset: int) -> None:
    collected = _Collected("intel")
    got = _outcome(lambda: collected.checked(Reply(page), offset))
    assert got == _outcome(lambda: _reference_checked(page, "intel", offset))
    if got[0] == "ok" and page is not None:
        assert got[1] is page


@settings(max_examples=400, deadline=None)
@given(raw=pages)
def test_dicts_is_the_item_by_item_check(raw: Any) -> None:
    got = _outcome(lambda: _dicts(raw, "/x"))
    assert got == _outcome(lambda: _reference_dicts(raw, "/x"))
    if got[0] == "ok":
        assert got[1] is raw


@pytest.mark.parametrize(
    "page",
    [[{"id": 1}, {"name": "no id"}], [{"id": 1}, {"id": None}], [{"id": 1}, [1]], [{"id": 0}, 3]],
)
def test_a_page_with_an_item_without_id_names_it(page: list[Any]) -> None:
    with pytest.raises(ProtocolError, match="an item at offset 500 has no id") as caught:
        _Collected("intel").checked(Reply(page), 500)
    assert caught.value.body == repr(page[1])[:200]
