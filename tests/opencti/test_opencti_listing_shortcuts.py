"""The emulator's shortcuts, standing in for Elasticsearch's indexes, answer exactly what the
plain evaluation answers:

- the date-range narrowing (`filtering.prefilter`) never drops a record its filter group
  matches, whatever the group and the record's dates, and does drop what the range excludes;
- a small first page of a large listing (`first: 1, orderBy: updated_at`, a count) is selected
  instead of sorted: same edges, cursors and counts as the sorted listing's first page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from octi_sandbox.opencti.filtering import compile_group, prefilter
from octi_sandbox.opencti.listing import Lister, Ordered, connection
from octi_sandbox.opencti.records import FROM_START, UNTIL_END

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DATE_KEYS = ["updated_at", "created_at", "created", "valid_until"]

moments = st.integers(min_value=-5, max_value=5).map(lambda d: NOW + timedelta(minutes=d))
date_values = st.one_of(
    moments,
    st.sampled_from([FROM_START, UNTIL_END, None, "", []]),
    st.lists(st.one_of(moments, st.just(FROM_START)), max_size=3),
    moments.map(lambda m: m.replace(tzinfo=None)),  # naive: the predicate's TypeError path
    moments.map(lambda m: m.isoformat()),  # a string: compared as the filter compares it
)
records = st.fixed_dictionaries(
    {key: date_values for key in DATE_KEYS}
    | {"x_opencti_score": st.integers(min_value=0, max_value=100)}
)


def _value(moment: datetime, style: int) -> str:
    text = moment.isoformat().replace("+00:00", "Z")
    return text if style else "now-" + str(int((NOW - moment).total_seconds() // 60 + 1)) + "m"


date_filters = st.builds(
    lambda key, op, moment, style: {
        "key": [key],
        "operator": op,
        "values": [_value(moment, style)],
    },
    st.sampled_from(DATE_KEYS),
    st.sampled_from(["gt", "gte", "lt", "lte", "eq", "not_eq", "nil", "within"]),
    moments,
    st.integers(min_value=0, max_value=3),
).map(lambda f: f if f["operator"] != "within" else {**f, "values": [*f["values"], "now+1d"]})
other_filters = st.builds(
    lambda op, n: {"key": ["x_opencti_score"], "operator": op, "values": [str(n)]},
    st.sampled_from(["gte", "lt", "eq"]),
    st.integers(min_value=0, max_value=100),
)
groups = st.recursive(
    st.builds(
        lambda mode, filters: {"mode": mode, "filters": filters, "filterGroups": []},
        st.sampled_from(["and", "or"]),
        st.lists(st.one_of(date_filters, other_filters), max_size=4),
    ),
    lambda inner: st.builds(
        lambda mode, filters, subs: {"mode": mode, "filters": filters, "filterGroups": subs},
        st.sampled_from(["and", "or"]),
        st.lists(st.one_of(date_filters, other_filters), max_size=3),
        st.lists(inner, max_size=3),
    ),
    max_leaves=8,
)


def listing(
    rows: list[dict[str, Any]],
    group: dict[str, Any] | None,
    *,
    order_by: str | None = None,
    mode: str | None = None,
    head: int | None = None,
) -> Ordered:
    """The emulator's listing of `rows` (one store version, no search)."""
    return Lister().ordered(
        lambda: iter(rows),
        shape="indicators",
        version=0,
        now=NOW,
        filters=group,
        search=None,
        order_by=order_by,
        order_mode=mode,
        head=head,
    )


@settings(max_examples=400, deadline=None)
@given(groups, st.lists(records, min_size=1, max_size=12))
def test_the_prefilter_keeps_every_match(group: dict[str, Any], recs: list[dict[str, Any]]) -> None:
    match, narrow = compile_group(group, NOW), prefilter(group, NOW)
    if narrow is None:
        return
    for record in recs:
        if match(record):
            assert narrow(record), (group, record)


@settings(max_examples=150, deadline=None)
@given(groups, st.lists(records, min_size=1, max_size=30))
def test_a_listing_is_the_same_with_and_without_it(
    group: dict[str, Any], recs: list[dict[str, Any]]
) -> None:
    rows = [
        {**r, "id": f"id-{i:03}", "standard_id": f"indicator--{i:03}"} for i, r in enumerate(recs)
    ]
    match = compile_group(group, NOW)
    expected = [r["id"] for r in sorted(rows, key=lambda r: r["standard_id"]) if match(r)]
    assert [r["id"] for r in listing(rows, group).items] == expected


def test_it_narrows_what_the_range_excludes() -> None:
    mark = NOW - timedelta(minutes=1)
    group = {
        "mode": "and",
        "filters": [{"key": ["updated_at"], "operator": "gte", "values": [mark.isoformat()]}],
        "filterGroups": [
            {
                "mode": "and",
                "filters": [{"key": "created", "operator": "lt", "values": ["now"]}],
                "filterGroups": [],
            }
        ],
    }
    narrow = prefilter(group, NOW)
    assert narrow is not None
    old, new = NOW - timedelta(minutes=2), NOW
    assert narrow({"updated_at": mark, "created": old})
    assert not narrow({"updated_at": old, "created": old})
    assert not narrow({"updated_at": new, "created": new})  # the nested and-group's range
    assert not narrow({"updated_at": FROM_START, "created": old})
    assert not narrow({"updated_at": None, "created": old})
    either = {"mode": "or", "filters": group["filters"], "filterGroups": []}
    assert prefilter(either, NOW) is None  # an or-group requires no range


@settings(max_examples=300, deadline=None)
@given(
    st.lists(records, min_size=0, max_size=40),
    st.sampled_from([None, "updated_at", "created", "x_opencti_score"]),
    st.sampled_from([None, "asc", "desc"]),
    st.integers(min_value=0, max_value=6),
    st.booleans(),
)
def test_a_small_first_page_is_the_sorted_listings(
    recs: list[dict[str, Any]], order_by: str | None, mode: str | None, first: int, filtered: bool
) -> None:
    rows = [
        {**r, "id": f"id-{i:03}", "standard_id": f"indicator--{(i * 7) % 11:03}"}
        for i, r in enumerate(recs)
    ]
    for row in rows:  # order values of one type, as a listing by one field has them
        for key in ("updated_at", "created"):
            if not isinstance(row[key], datetime) or row[key].tzinfo is None:
                row[key] = None
    group = (
        {
            "mode": "and",
            "filters": [{"key": ["x_opencti_score"], "operator": "gte", "values": ["30"]}],
            "filterGroups": [],
        }
        if filtered
        else None
    )

    def page(head: int | None) -> dict[str, Any]:
        ordered = listing(rows, group, order_by=order_by, mode=mode, head=head)
        return connection(ordered, first=first, after=None, has_field=order_by is not None)

    assert page(first) == page(None)
