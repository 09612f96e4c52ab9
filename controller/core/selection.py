"""Does a policy's `select` take a source object? Pure; `now` is a parameter.

Selection decides *scope*; the lifecycle (revoked, expired, detection off, TLP:RED) decides
whether a selected object is synced or shown as skipped with its reason — so that a revoked
indicator's document is deleted with reason `revoked`, not silently forgotten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from controller.core.labels import label_key
from controller.core.markings import UNKNOWN_MARKING, normalize_marking
from controller.core.model import SourceObject
from controller.core.reasons import Reason
from controller.policy.models import Select, TimeWindow, parse_duration


def selects(select: Select, obj: SourceObject, *, now: datetime) -> bool:
    if select.entity_types and obj.entity_type not in select.entity_types:
        return False
    if obj.is_indicator:
        if select.pattern_types and (obj.pattern_type or "") not in select.pattern_types:
            return False
        if (
            select.observable_types
            and (obj.main_observable_type or "") not in select.observable_types
        ):
            return False
    elif select.observable_types and obj.entity_type not in select.observable_types:
        return False
    if not _labels_match(select, obj):
        return False
    if select.min_score is not None and (obj.score is None or obj.score < select.min_score):
        return False
    if select.min_confidence is not None and (
        obj.confidence is None or obj.confidence < select.min_confidence
    ):
        return False
    if select.markings and not _markings_allowed(select, obj):
        return False
    if select.created is not None and not _within(select.created, obj.created, now):
        return False
    return select.updated is None or _within(select.updated, obj.modified or obj.created, now)


def selects_everything(select: Select) -> bool:
    """Whether `select` states no condition (`select: {}`, the usual policy): `selects` is then
    true of every object, and need not be asked object by object."""
    rule = select.labels
    return not (
        select.entity_types
        or select.pattern_types
        or select.observable_types
        or rule.any_of
        or rule.all_of
        or rule.none_of
        or select.min_score is not None
        or select.min_confidence is not None
        or select.markings
        or select.created is not None
        or select.updated is not None
    )


def lifecycle_clear(obj: SourceObject, *, now: datetime) -> bool:
    """Whether `lifecycle_reason` is None for `obj` whatever the select (not TLP:RED, not
    revoked, not expired, detection not off): most objects, judged once for every policy.
    Flat: it runs for every selected object of a pass."""
    if obj.revoked or (obj.detection is False and obj.entity_type == "Indicator"):
        return False
    markings = obj.markings
    if _red(markings) if type(markings) is tuple else tlp_red(obj):
        return False
    until = obj.valid_until  # compared last, as `lifecycle_reason` does (a naive `now` raises)
    return until is None or (until if until.tzinfo is not None else _aware(until)) > now


def lifecycle_reason(select: Select, obj: SourceObject, *, now: datetime) -> Reason | None:
    """Why a selected object is not synced (`revoked`, `expired`, ...), or None."""
    if tlp_red(obj) and not select.allow_red:
        return Reason.TLP_RED
    if obj.revoked and not select.include_revoked:
        return Reason.REVOKED
    if (
        obj.valid_until is not None
        and _aware(obj.valid_until) <= now
        and not select.include_expired
    ):
        return Reason.EXPIRED
    if obj.is_indicator and obj.detection is False:
        return Reason.DETECTION_DISABLED
    return None


def next_change(select: Select, obj: SourceObject, *, now: datetime) -> datetime | None:
    """The first instant after `now` from which `selects` or `lifecycle_reason` may say
    otherwise than at `now` (None: never, as time goes on). Only two verdicts move with the
    clock: `valid_until` passing (`expired`) and a `within` window leaving the object behind;
    `after`/`before` bounds are absolute. A memo of verdicts recomputes an object from there."""
    instants = []
    if obj.valid_until is not None and not select.include_expired:
        until = _aware(obj.valid_until)
        if until > now:
            instants.append(until)
    for window, stamp in (
        (select.created, obj.created),
        (select.updated, obj.modified or obj.created),
    ):
        if window is not None and window.within is not None and stamp is not None:
            leaves = _aware(stamp) + parse_duration(window.within)
            if leaves >= now:
                instants.append(leaves)
    return min(instants, default=None)


def tlp_red(obj: SourceObject) -> bool:
    markings = obj.markings
    if type(markings) is tuple:  # as the model makes them (hashable)
        return _red(markings)
    return any(normalize_marking(m) == "TLP:RED" for m in markings)


@lru_cache(maxsize=4096)
def _red(markings: tuple[str, ...]) -> bool:
    """Cached: objects carry one of a few marking sets, asked about for every object."""
    return any(normalize_marking(m) == "TLP:RED" for m in markings)


def _labels_match(select: Select, obj: SourceObject) -> bool:
    rule = select.labels
    if not (rule.any_of or rule.all_of or rule.none_of):
        return True  # no label rule (the usual case): the object's labels are not read
    have = {label_key(label) for label in obj.labels}
    if rule.any_of and not have & {label_key(x) for x in rule.any_of}:
        return False
    if rule.all_of and not {label_key(x) for x in rule.all_of} <= have:
        return False
    return not (rule.none_of and have & {label_key(x) for x in rule.none_of})


def _markings_allowed(select: Select, obj: SourceObject) -> bool:
    allowed = {normalize_marking(m) for m in select.markings}
    if any(m.startswith(UNKNOWN_MARKING) for m in obj.markings):
        return False  # a marking we cannot name might be anything: fail closed
    tlps = [normalize_marking(m) for m in obj.markings if m.upper().startswith("TLP:")]
    if not tlps:
        return "TLP:CLEAR" in allowed
    return all(t in allowed for t in tlps)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _within(window: TimeWindow, stamp: datetime | None, now: datetime) -> bool:
    if stamp is None:
        return False
    stamp = _aware(stamp)
    if window.after is not None and stamp < _aware(window.after):
        return False
    if window.before is not None and stamp >= _aware(window.before):
        return False
    return window.within is None or stamp >= now - parse_duration(window.within)
