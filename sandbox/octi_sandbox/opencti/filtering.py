"""FilterGroup evaluation, as OpenCTI's engine applies it (§4).

A group combines its `filters` and `filterGroups` with its `mode`; a filter combines its
`values` with its own `mode` (default `or`); `operator` defaults to `eq`. The key check is
global, like OpenCTI's: a key no schema defines → `UNSUPPORTED_ERROR "Incorrect filter keys
not existing in any schema definition"`; a malformed group → `"Incorrect filters format"`.
Keys OpenCTI accepts but the emulator does not evaluate are refused with a clear error rather
than silently ignored.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from octi_sandbox.opencti.errors import functional, unsupported
from octi_sandbox.opencti.records import FROM_START, UNTIL_END, Record, normalize_algorithm

Predicate = Callable[[Record], bool]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_REF_KEYS = frozenset({"objectLabel", "objectMarking", "createdBy", "ids", "entity_type"})
_STRING_KEYS = _words(
    "pattern_type pattern name description x_opencti_main_observable_type value indicator_types "
    "x_mitre_platforms x_opencti_description definition_type definition identity_class path "
    "subject user_id attribute_key standard_id pattern_version"
)
_NUMBER_KEYS = _words("x_opencti_score confidence number attribute_count x_opencti_order")
_BOOL_KEYS = _words("revoked x_opencti_detection x_opencti_negative is_inferred")
_DATE_KEYS = _words(
    "valid_from valid_until created modified created_at updated_at refreshed_at first_seen "
    "last_seen"
)
_HASH_KEYS = frozenset({"MD5", "SHA-1", "SHA-256", "SHA-512", "SSDEEP"})
_KNOWN_ELSEWHERE = _words(
    "killChainPhases objectAssignee objectParticipant objectOrganization externalReferences "
    "creator_id x_opencti_workflow_id regardingOf sightedBy lang x_opencti_reliability "
    "decay_base_score fromId toId fromTypes toTypes relationship_type x_opencti_stix_ids "
    "source_name external_id url x_opencti_additional_names mime_type size display_name aliases "
    "x_opencti_aliases workflow_id contextEntityId internal_id parent_types x_opencti_base_score "
    "x_opencti_base_severity x_opencti_cvss_base_score color"
)
"""Keys OpenCTI's schema defines that the emulator does not evaluate (refused, not ignored)."""
_OPERATORS = _words(
    "eq not_eq lt lte gt gte match wildcard contains not_contains ends_with not_ends_with "
    "starts_with not_starts_with nil not_nil search within"
)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "H": "hours", "d": "days", "w": "weeks"}
_MATH = re.compile(r"([+-])(\d+)([smhHdwMy])")


def _implemented(key: str) -> bool:
    if key.startswith("hashes."):
        return key[len("hashes.") :] in _HASH_KEYS
    return key in _REF_KEYS | _STRING_KEYS | _NUMBER_KEYS | _BOOL_KEYS | _DATE_KEYS


def check(group: Any) -> None:
    """Raise the GraphQL error OpenCTI would for a malformed group or unknown keys."""
    unknown: list[str] = []
    _check(group, unknown)
    if unknown:
        raise unsupported(
            "Incorrect filter keys not existing in any schema definition", keys=sorted(set(unknown))
        )


def _check(group: Any, unknown: list[str]) -> None:
    if (
        not isinstance(group, dict)
        or group.get("mode") not in ("and", "or")
        or not isinstance(group.get("filters"), list)
        or not isinstance(group.get("filterGroups"), list)
    ):
        raise unsupported("Incorrect filters format", filter=str(group)[:200])
    for item in group["filters"]:
        keys = item.get("key") if isinstance(item, dict) else None
        keys = [keys] if isinstance(keys, str) else keys
        if not keys or not isinstance(keys, list):
            raise unsupported("Incorrect filters format", filter=str(item)[:200])
        for key in keys:
            if not _implemented(key) and key.split(".")[0] not in _KNOWN_ELSEWHERE:
                unknown.append(key)
    for sub in group["filterGroups"]:
        _check(sub, unknown)


def parse_date(value: Any, now: datetime) -> datetime:
    """ISO-8601 or date math (`now`, `now-24h`, `now+1d`, `now-7d/d`)."""
    text = str(value).strip()
    if text.startswith("now"):
        rest, _, rounding = text[3:].partition("/")
        at = now
        for sign, amount, unit in _MATH.findall(rest):
            if unit in ("M", "y"):
                delta = timedelta(days=int(amount) * (30 if unit == "M" else 365))
            else:
                delta = timedelta(**{_UNIT[unit]: int(amount)})
            at = at + delta if sign == "+" else at - delta
        if rounding == "d":
            at = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return at
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise functional(f"Invalid date value in filter: {text!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _values_of(record: Record, key: str) -> list[Any]:
    """The record's values for a key, normalised for comparison (refs case-folded)."""
    if key.startswith("hashes."):
        want = normalize_algorithm(key[len("hashes.") :])
        hashes = record.get("_hashes") or {}
        return [v.lower() for k, v in hashes.items() if normalize_algorithm(k) == want]
    if key in ("objectLabel", "objectMarking"):
        out: list[Any] = []
        for ref in record.get(key) or ():
            out.extend(
                i.casefold() for i in (ref["id"], ref["standard_id"], *ref["x_opencti_stix_ids"])
            )
            if key == "objectLabel":
                out.append(ref["value"].casefold())
        return out
    if key == "createdBy":
        author = record.get("createdBy")
        return [author["id"].casefold(), author["standard_id"].casefold()] if author else []
    if key == "ids":
        return [
            i.casefold()
            for i in (record["id"], record["standard_id"], *record["x_opencti_stix_ids"])
        ]
    if key == "entity_type":
        return [t.casefold() for t in (record["entity_type"], *record["parent_types"])]
    value = record.get(key)
    if value is None or value == "" or value == []:
        return []
    values = value if isinstance(value, list) else [value]
    if key in _DATE_KEYS:
        return [v for v in values if v not in (FROM_START, UNTIL_END)]
    return values


def _coerce(key: str, value: Any, now: datetime) -> Any:
    if key in _REF_KEYS or key.startswith("hashes."):
        return str(value).casefold()
    if key in _NUMBER_KEYS:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise functional(f"Invalid number in filter {key}: {value!r}") from None
    if key in _BOOL_KEYS:
        return str(value).lower() == "true"
    if key in _DATE_KEYS:
        return parse_date(value, now)
    return str(value)


def _test(operator: str, have: Any, want: Any) -> bool:
    if operator in ("eq", "not_eq"):
        return bool(have == want)
    if operator in ("gt", "gte", "lt", "lte"):
        try:
            if operator == "gt":
                return bool(have > want)
            if operator == "gte":
                return bool(have >= want)
            return bool(have < want) if operator == "lt" else bool(have <= want)
        except TypeError:
            return False
    text, needle = str(have).casefold(), str(want).casefold()
    if operator in ("starts_with", "not_starts_with"):
        return text.startswith(needle)
    if operator in ("ends_with", "not_ends_with"):
        return text.endswith(needle)
    return needle.strip("*") in text  # contains, match, wildcard, search


def _compile_filter(item: dict[str, Any], now: datetime) -> Predicate:
    keys = item["key"] if isinstance(item["key"], list) else [item["key"]]
    operator = item.get("operator") or "eq"
    mode = item.get("mode") or "or"
    values = list(item.get("values") or [])
    if operator not in _OPERATORS:
        raise (
            functional(f"Filter operator {operator!r} is not supported")
            if operator != "script"
            else functional("Filter script is not allowed")
        )
    for key in keys:
        if not _implemented(key):
            raise functional(f"the emulator does not evaluate the filter key {key!r}")
    negative = operator.startswith("not_") and operator != "not_nil"
    if operator in ("nil", "not_nil"):
        want_empty = operator == "nil"
        return lambda r: any(not _values_of(r, k) for k in keys) == want_empty
    if not values:
        return lambda r: True
    if operator == "within":
        if len(values) != 2:
            raise functional("Filter with operator 'within' needs exactly 2 values")
        key_bounds = [(k, _coerce(k, values[0], now), _coerce(k, values[1], now)) for k in keys]
        return lambda r: any(
            _test("gte", v, lo) and _test("lte", v, hi)
            for k, lo, hi in key_bounds
            for v in _values_of(r, k)
        )
    wanted = [[(k, _coerce(k, v, now)) for k in keys] for v in values]
    combine = all if mode == "and" else any

    def predicate(record: Record) -> bool:
        def one(options: list[tuple[str, Any]]) -> bool:
            hit = any(
                _test(operator, have, want) for k, want in options for have in _values_of(record, k)
            )
            return not hit if negative else hit

        return combine(one(options) for options in wanted)

    return predicate


def compile_group(group: dict[str, Any] | None, now: datetime) -> Predicate:
    """A predicate for a (checked) FilterGroup; None matches everything."""
    if not group:
        return lambda r: True
    parts: list[Predicate] = [_compile_filter(f, now) for f in group["filters"]]
    parts += [compile_group(g, now) for g in group["filterGroups"]]
    if not parts:
        return lambda r: True
    combine = all if group["mode"] == "and" else any
    return lambda r: combine(p(r) for p in parts)


_SENTINELS = frozenset({FROM_START, UNTIL_END})
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def prefilter(group: dict[str, Any] | None, now: datetime) -> Predicate | None:
    """A cheap test every record `group` matches passes: the date ranges the group requires
    of all its matches (one-key, one-value `gt`/`gte`/`lt`/`lte` filters on a date, in its
    `and` groups), compared on the record's field directly. A record whose field is not an
    aware datetime is judged by that filter's own predicate, so the test accepts exactly what
    those filters accept; the group's predicate still decides. None: no such range.

    This is the emulator's stand-in for Elasticsearch's range index: an incremental fetch
    (`updated_at >= mark`) or a count over a range of creation dates then costs a comparison
    per record instead of the whole group's evaluation."""
    ranges: list[tuple[str, Callable[[Any, Any], Any], datetime, Predicate]] = []
    _collect_ranges(group, now, ranges)
    if not ranges:
        return None

    def passes(record: Record) -> bool:
        for key, compare, want, exact in ranges:
            value = record.get(key)
            if isinstance(value, datetime) and value.tzinfo is not None:
                if value in _SENTINELS or not compare(value, want):
                    return False
            elif not exact(record):
                return False
        return True

    return passes


def _collect_ranges(
    group: dict[str, Any] | None,
    now: datetime,
    into: list[tuple[str, Callable[[Any, Any], Any], datetime, Predicate]],
) -> None:
    if not group or group["mode"] != "and":
        return
    for item in group["filters"]:
        keys = item["key"] if isinstance(item["key"], list) else [item["key"]]
        operator_name = item.get("operator") or "eq"
        values = list(item.get("values") or [])
        if len(keys) == 1 and keys[0] in _DATE_KEYS and len(values) == 1:
            compare = _COMPARE.get(operator_name)
            if compare is not None:
                into.append(
                    (keys[0], compare, parse_date(values[0], now), _compile_filter(item, now))
                )
    for sub in group["filterGroups"]:
        _collect_ranges(sub, now, into)


def uses_now(group: Any) -> bool:
    """Whether a group holds date math (then its result depends on the clock)."""
    if not isinstance(group, dict):
        return False
    for item in group.get("filters") or ():
        values = item.get("values") if isinstance(item, dict) else None
        if any(isinstance(v, str) and v.strip().startswith("now") for v in values or ()):
            return True
    return any(uses_now(sub) for sub in group.get("filterGroups") or ())


def search_score(record: Record, term: str) -> int:
    needle = term.casefold()
    fields: Iterable[Any] = (
        record.get(f)
        for f in ("name", "pattern", "value", "observable_value", "description", "definition")
    )
    return sum(1 for value in fields if isinstance(value, str) and needle in value.casefold())
