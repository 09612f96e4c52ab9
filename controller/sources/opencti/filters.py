"""Policy selectors → FilterGroups. Pure; `now` is a parameter.

The pure selector (`controller.core.selection.selects`) is authoritative: it runs again on every
fetched object. These filters only spare the transfer of objects no policy can take, so each
one must be *at least as wide* as its pure counterpart, never narrower:

- entityTypes: the indicators query runs only when `Indicator` is in (or the list is empty);
  observables: `types:` is the union, plus `entity_type eq` per policy when it differs;
- labels: anyOf → `objectLabel eq` (or); allOf → one `objectLabel eq` per label; noneOf →
  `objectLabel not_eq` (and); every value is sent as written and case-folded;
- patternTypes → `pattern_type eq`, observableTypes → `x_opencti_main_observable_type eq`,
  minConfidence → `confidence gte` (indicators); for observables observableTypes narrows the
  types and minConfidence leaves nothing (OpenCTI observables have no confidence);
- minScore → `x_opencti_score gte`;
- markings (when listed) → `objectMarking not_eq` the TLP markings not allowed, and, unless
  TLP:CLEAR is allowed (which admits unmarked objects), `objectMarking eq` the allowed ones;
- created → `created` (observables: `created_at`) gte/lt; updated → `modified` (observables:
  `updated_at`) gte/lt, or that key nil and `created` gte/lt (the pure test's fallback).

Not filtered, on purpose: revoked, expiry (`valid_until`), detection and TLP:RED. The plan shows
those objects as skipped with their reason and deletes their documents.

Several policies make one query per family: the OR of their groups (identical groups once), or
no filter at all as soon as one policy takes the whole family.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from controller.policy.models import OBSERVABLE_TYPES, Select, TimeWindow, parse_duration
from controller.sources.opencti.mapping import marking_name
from controller.sources.opencti.queries import INDICATORS, OBSERVABLES, Operation

JSON = dict[str, Any]
Family = Literal["indicators", "observables"]


@dataclass(frozen=True)
class Marking:
    id: str
    definition: str

    @property
    def tlp_name(self) -> str | None:
        name = marking_name(self.definition)
        return name if name.upper().startswith("TLP:") else None


@dataclass(frozen=True)
class FamilyQuery:
    family: Family
    operation: Operation
    filters: JSON | None
    types: tuple[str, ...] | None = None

    def variables(self, first: int, after: str | None) -> JSON:
        variables: JSON = {"first": first, "after": after, "filters": self.filters}
        if self.types is not None:
            variables["types"] = list(self.types)
        return variables


def flt(key: str, values: Iterable[str], operator: str = "eq", mode: str = "or") -> JSON:
    return {"key": [key], "values": list(values), "operator": operator, "mode": mode}


def group(mode: str, filters: Iterable[JSON] = (), groups: Iterable[JSON] = ()) -> JSON:
    return {"mode": mode, "filters": list(filters), "filterGroups": list(groups)}


def iso_floor(value: datetime) -> str:
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_ceil(value: datetime) -> str:
    if value.microsecond % 1000:
        value = value + timedelta(microseconds=1000 - value.microsecond % 1000)
    return iso_floor(value)


def _label_variants(names: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for name in names:
        out.setdefault(name.strip(), None)
        out.setdefault(name.strip().casefold(), None)
    return list(out)


def _window(key: str, window: TimeWindow, now: datetime) -> list[JSON]:
    """The pure test: after <= stamp < before, stamp >= now - within (bounds rounded wider)."""
    out: list[JSON] = []
    if window.after is not None:
        out.append(flt(key, [iso_floor(window.after)], "gte"))
    if window.before is not None:
        out.append(flt(key, [iso_ceil(window.before)], "lt"))
    if window.within is not None:
        out.append(flt(key, [iso_floor(now - parse_duration(window.within))], "gte"))
    return out


def _markings(select: Select, markings: Sequence[Marking] | None) -> list[JSON] | None:
    """Marking filters, [] for none, or None when the policy can take nothing."""
    if not select.markings or markings is None:
        return []
    allowed = {marking_name(m) for m in select.markings}
    tlp = [(m.id, m.tlp_name) for m in markings if m.tlp_name is not None]
    out: list[JSON] = []
    refused = sorted(i for i, name in tlp if name not in allowed)
    if refused:
        out.append(flt("objectMarking", refused, "not_eq", "and"))
    if "TLP:CLEAR" not in allowed:  # an object without any TLP marking is refused
        accepted = sorted(i for i, name in tlp if name in allowed)
        if not accepted:
            return None
        out.append(flt("objectMarking", accepted))
    return out


def _common(
    select: Select,
    markings: Sequence[Marking] | None,
    created_key: str,
    modified_key: str,
    now: datetime,
) -> tuple[list[JSON], list[JSON]] | None:
    filters: list[JSON] = []
    groups: list[JSON] = []
    labels = select.labels
    if labels.any_of:
        filters.append(flt("objectLabel", _label_variants(labels.any_of)))
    filters.extend(flt("objectLabel", _label_variants([name])) for name in labels.all_of)
    if labels.none_of:
        filters.append(flt("objectLabel", _label_variants(labels.none_of), "not_eq", "and"))
    if select.min_score is not None:
        filters.append(flt("x_opencti_score", [str(select.min_score)], "gte"))
    marking_filters = _markings(select, markings)
    if marking_filters is None:
        return None
    filters.extend(marking_filters)
    if select.created is not None:
        filters.extend(_window(created_key, select.created, now))
    if select.updated is not None:
        modified = group("and", _window(modified_key, select.updated, now))
        fallback = group(
            "and", [flt(modified_key, [], "nil"), *_window(created_key, select.updated, now)]
        )
        groups.append(group("or", groups=[modified, fallback]))
    return filters, groups


def indicator_group(
    select: Select, *, now: datetime, markings: Sequence[Marking] | None = None
) -> JSON | None:
    """The policy's indicator filter group ({} filters = all), or None if it takes none."""
    if select.entity_types and "Indicator" not in select.entity_types:
        return None
    common = _common(select, markings, "created", "modified", now)
    if common is None:
        return None
    filters, groups = common
    if select.pattern_types:
        filters.append(flt("pattern_type", select.pattern_types))
    if select.observable_types:
        filters.append(flt("x_opencti_main_observable_type", select.observable_types))
    if select.min_confidence is not None:
        filters.append(flt("confidence", [str(select.min_confidence)], "gte"))
    return group("and", filters, groups)


def observable_types(select: Select) -> tuple[str, ...]:
    types = [t for t in select.entity_types if t != "Indicator"] if select.entity_types else None
    chosen = list(OBSERVABLE_TYPES) if types is None else types
    if select.observable_types:
        chosen = [t for t in chosen if t in select.observable_types]
    return tuple(dict.fromkeys(chosen))


def observable_group(
    select: Select, *, now: datetime, markings: Sequence[Marking] | None = None
) -> tuple[tuple[str, ...], JSON] | None:
    """(entity types, filter group) for the policy's observables, or None if it takes none."""
    types = observable_types(select)
    if not types or select.min_confidence is not None:
        return None
    common = _common(select, markings, "created_at", "updated_at", now)
    if common is None:
        return None
    filters, groups = common
    return types, group("and", filters, groups)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _union(groups: Sequence[JSON]) -> JSON | None:
    if not groups or any(not g["filters"] and not g["filterGroups"] for g in groups):
        return None
    unique = list({_canonical(g): g for g in groups}.values())
    return unique[0] if len(unique) == 1 else group("or", groups=unique)


def plan_queries(
    selects: Sequence[Select], *, now: datetime, markings: Sequence[Marking] | None = None
) -> tuple[FamilyQuery, ...]:
    """The minimal queries covering every policy: at most one per family."""
    queries: list[FamilyQuery] = []
    indicator_groups = [
        g for s in selects if (g := indicator_group(s, now=now, markings=markings)) is not None
    ]
    if indicator_groups:
        queries.append(FamilyQuery("indicators", INDICATORS, _union(indicator_groups)))
    observable_parts = [
        p for s in selects if (p := observable_group(s, now=now, markings=markings)) is not None
    ]
    if observable_parts:
        union_types = tuple(t for t in OBSERVABLE_TYPES if any(t in p[0] for p in observable_parts))
        groups: list[JSON] = []
        for types, grp in observable_parts:
            if set(types) != set(union_types):
                grp = group(
                    "and", [flt("entity_type", types), *grp["filters"]], grp["filterGroups"]
                )
            groups.append(grp)
        queries.append(FamilyQuery("observables", OBSERVABLES, _union(groups), union_types))
    return tuple(queries)


def needs_markings(selects: Sequence[Select]) -> bool:
    """Whether any policy lists markings (their filters need the marking definitions' ids)."""
    return any(s.markings for s in selects)
