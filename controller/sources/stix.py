"""STIX 2.1 objects (as OpenCTI exports them) → `SourceObject`.

Tolerant by design: OpenCTI data is not strict STIX (`x_opencti_*` properties, a property
extension, objects a strict parser rejects). Only the fields the controller uses are read;
anything unexpected is ignored, never fatal.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

from controller.core.markings import STANDARD_MARKINGS, UNKNOWN_MARKING, normalize_marking
from controller.core.model import SourceObject, source_blank
from controller.core.timestamps import parse_time

_V = TypeVar("_V", str, tuple[str, ...])

OPENCTI_EXT = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
OPENCTI_SCO_EXT = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"

STIX_TO_ENTITY = {
    "indicator": "Indicator",
    "ipv4-addr": "IPv4-Addr",
    "ipv6-addr": "IPv6-Addr",
    "domain-name": "Domain-Name",
    "hostname": "Hostname",
    "x-opencti-hostname": "Hostname",
    "url": "Url",
    "file": "StixFile",
    "artifact": "Artifact",
    "email-addr": "Email-Addr",
    "email-message": "Email-Message",
    "mac-addr": "Mac-Addr",
    "process": "Process",
    "windows-registry-key": "Windows-Registry-Key",
    "directory": "Directory",
    "mutex": "Mutex",
    "network-traffic": "Network-Traffic",
    "user-account": "User-Account",
    "autonomous-system": "Autonomous-System",
    "software": "Software",
    "x509-certificate": "X509-Certificate",
    "cryptocurrency-wallet": "Cryptocurrency-Wallet",
    "x-opencti-cryptocurrency-wallet": "Cryptocurrency-Wallet",
    "user-agent": "User-Agent",
    "x-opencti-user-agent": "User-Agent",
    "text": "Text",
    "x-opencti-text": "Text",
}

_STIX_ID = re.compile(  # `*?`: the same ids, the (short) type's `--` found from the left
    r"^[a-z][a-z0-9-]*?--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def marking_names(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Marking-definition id → name, from the standard ids (never overridden: a bundle cannot
    rename TLP:RED) and the bundle's own definitions."""
    names = dict(STANDARD_MARKINGS)
    for obj in objects:
        ident = obj.get("id")
        if obj.get("type") != "marking-definition" or not isinstance(ident, str):
            continue
        if ident in STANDARD_MARKINGS:
            continue
        definition = obj.get("definition")
        definition = definition if isinstance(definition, Mapping) else {}
        name = obj.get("name")
        tlp = definition.get("tlp") or definition.get("TLP")
        if not isinstance(name, str) and isinstance(tlp, str):
            name = tlp if tlp.upper().startswith("TLP:") else f"TLP:{tlp}"
        if not isinstance(name, str) and "statement" in definition:
            name = "statement"
        if isinstance(name, str):
            names[ident] = normalize_marking(name)
    return names


def clean_text(value: Any) -> str:
    """Text as the pipeline can carry it: lone surrogates (invalid Unicode that some JSON
    producers emit) replaced, so no later stage crashes on encoding."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    if value.isascii():  # the common case, and no lone surrogate is ASCII
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _ext(obj: Mapping[str, Any], ext_id: str) -> Mapping[str, Any]:
    extensions = obj.get("extensions")
    if isinstance(extensions, Mapping):
        value = extensions.get(ext_id)
        if isinstance(value, Mapping):
            return value
    return {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (clean_text(value),)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(clean_text(item))
            elif isinstance(item, Mapping) and isinstance(item.get("value"), str):
                out.append(clean_text(item["value"]))
        return tuple(out)
    return ()


def _opt_str(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) and value else None


def _hashes(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, list):  # OpenCTI's [{algorithm, hash}] shape
        out: dict[str, str] = {}
        for item in value:
            if isinstance(item, Mapping) and item.get("algorithm") and item.get("hash"):
                out[str(item["algorithm"])] = str(item["hash"])
        return out
    return {}


def _observable_value(stix_type: str, obj: Mapping[str, Any]) -> str | None:
    for key in ("value", "name", "path", "key", "number", "user_id", "subject"):
        if key == "name" and stix_type == "file":
            continue
        value = obj.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    if stix_type == "file" and isinstance(obj.get("name"), str):
        return str(obj["name"])
    return None


class UnreadableObject(ValueError):
    """A STIX object of a synced type whose fields cannot be read (the message says which)."""


_SHARE_MAX = 8192
_shared: dict[str | tuple[str, ...], Any] = {}
_texts: dict[str, str] = {}
_times: dict[str, datetime | None] = {}


def _share(value: _V) -> _V:
    """One object for equal strings and tuples of strings (labels, marking names, pattern
    types repeat across most objects of a bundle: 100,000 copies of the same labels cost
    ~15 MB). Bounded: past `_SHARE_MAX` distinct values, new ones are kept as they are."""
    found = _shared.get(value)
    if found is not None:
        return cast(_V, found)
    if len(_shared) < _SHARE_MAX:
        _shared[value] = value
    return value


def _share_text(value: str) -> str:
    """One object for equal texts that often repeat (a feed's boilerplate description, an
    observable type): `_share`, in a table of its own so that many distinct descriptions
    do not fill the one of labels and markings."""
    found = _texts.get(value)
    if found is not None:
        return found
    if len(_texts) < _SHARE_MAX:
        _texts[value] = value
    return value


def _time(value: Any) -> datetime | None:
    """`parse_time`, one datetime per distinct string (keyed by the text, never by the
    instant: equal instants in other zones print differently). Bounded like `_share`."""
    if not isinstance(value, str):
        return None
    found = _times.get(value, _MISSING)
    if found is not _MISSING:
        return cast("datetime | None", found)
    parsed = parse_time(value)
    if len(_times) < _SHARE_MAX:
        _times[value] = parsed
    return parsed


_MISSING: Any = object()


def to_source_object(obj: Mapping[str, Any], markings: Mapping[str, str]) -> SourceObject | None:
    """Map one STIX object; None when it is neither an indicator nor a known observable.
    Raises `UnreadableObject` for one of those types with an invalid id or fields.

    Every field is given its type here, so the object is built without a second validation
    pass (`SourceObject.adopt`); repeated values are shared (`_share`, `_time`)."""
    mapped = source_fields(obj)
    return None if mapped is None else with_markings(*mapped, markings)


def marking_tuple(refs: tuple[str, ...], markings: Mapping[str, str]) -> tuple[str, ...]:
    """The names of the marking `refs` (see `marking_names`): sorted, unique, shared."""
    if not refs:
        return ()
    return _share(tuple(sorted({markings.get(ref) or f"{UNKNOWN_MARKING}{ref}" for ref in refs})))


def with_markings(
    fields: dict[str, Any], refs: tuple[str, ...], markings: Mapping[str, str]
) -> SourceObject:
    """The object of `source_fields`, its marking refs named by `markings` (see
    `marking_names`). The object takes `fields` over (its `markings` set): build one object
    from one `source_fields` result."""
    fields["markings"] = marking_tuple(refs, markings)
    return SourceObject.adopt(fields)


def source_fields(obj: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """`to_source_object` before the marking names are known (a bundle may define its
    markings after the objects using them): every field of the object, typed and in the
    declared order (`SourceObject.adopt`), `markings` left empty; and the marking refs.
    None, or `UnreadableObject`, as `to_source_object`.

    A plain indicator (what a bundle mostly holds) takes `plain_indicator`, the same
    mapping written flat; anything else `_source_fields`."""
    plain = plain_indicator(obj)
    return _source_fields(obj) if plain is None else plain


def _source_fields(obj: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """`source_fields`, for any object (the general path)."""
    stix_type = obj.get("type")
    if not isinstance(stix_type, str) or stix_type not in STIX_TO_ENTITY:
        return None
    ident = obj.get("id")
    if not isinstance(ident, str) or not _STIX_ID.match(ident):
        raise UnreadableObject(f"{stix_type} with an invalid id {str(ident)[:80]!r}")
    octi = _ext(obj, OPENCTI_EXT)
    sco = _ext(obj, OPENCTI_SCO_EXT)
    labels = _strings(obj.get("labels")) or _strings(obj.get("x_opencti_labels"))
    labels = labels or _strings(octi.get("labels")) or _strings(sco.get("labels"))
    refs = _strings(obj.get("object_marking_refs"))
    internal_id = _opt_str(obj.get("x_opencti_id")) or _opt_str(octi.get("id"))
    labels = _share(labels) if labels else ()
    created = _time(obj.get("created") or octi.get("created_at"))
    modified = _time(obj.get("modified") or octi.get("updated_at"))
    confidence = _int(obj.get("confidence"))
    refs = _share(refs) if refs else ()
    if stix_type == "indicator":
        detection = obj.get("x_opencti_detection", octi.get("detection"))
        pattern = obj.get("pattern")
        platforms = _strings(obj.get("x_mitre_platforms"))
        main_type = _opt_str(obj.get("x_opencti_main_observable_type")) or _opt_str(
            octi.get("main_observable_type")
        )
        fields: dict[str, Any] = {
            "standard_id": ident,
            "internal_id": internal_id,
            "entity_type": "Indicator",
            "name": clean_text(obj.get("name")),
            "description": _share_text(clean_text(obj.get("description"))),
            "pattern": pattern if isinstance(pattern, str) else None,
            "pattern_type": _share(clean_text(obj.get("pattern_type") or "stix").lower()),
            "valid_from": _time(obj.get("valid_from")),
            "valid_until": _time(obj.get("valid_until")),
            "revoked": obj.get("revoked") is True,
            "detection": detection if isinstance(detection, bool) else None,
            "platforms": _share(platforms) if platforms else (),
            "main_observable_type": _share_text(main_type) if main_type else None,
            "value": None,
            "hashes": {},
            "score": _int(obj.get("x_opencti_score", octi.get("score"))),
            "confidence": confidence,
            "labels": labels,
            "markings": (),
            "created": created,
            "modified": modified,
        }
        return _compact(fields), refs
    description = obj.get("x_opencti_description") or sco.get("description")
    value = _observable_value(stix_type, obj)
    fields = {
        "standard_id": ident,
        "internal_id": internal_id,
        "entity_type": STIX_TO_ENTITY[stix_type],
        "name": clean_text(obj.get("name")),
        "description": _share_text(clean_text(description)),
        "pattern": None,
        "pattern_type": None,
        "valid_from": None,
        "valid_until": None,
        "revoked": obj.get("revoked") is True,
        "detection": None,
        "platforms": (),
        "main_observable_type": None,
        "value": clean_text(value) if value is not None else None,
        "hashes": _hashes(obj.get("hashes")),
        "score": _int(obj.get("x_opencti_score", sco.get("score"))),
        "confidence": confidence,
        "labels": labels,
        "markings": (),
        "created": created,
        "modified": modified,
    }
    return _compact(fields), refs


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """The same fields in a compact dict (`source_blank`)."""
    compact = _BLANK.copy()
    compact.update(fields)
    return compact


_BLANK = source_blank()
_lists: dict[tuple[Any, ...], tuple[str, ...]] = {}
_pattern_types: dict[str, str] = {}


def _remember(raw: Any, strings: tuple[str, ...]) -> tuple[str, ...]:
    """`strings`, remembered as what `_strings` made of the JSON list `raw` (the flat
    path's memo: labels and marking refs repeat). Bounded like `_share`."""
    if type(raw) is list and len(_lists) < _SHARE_MAX:
        with contextlib.suppress(TypeError):  # an unhashable item
            _lists[tuple(raw)] = strings
    return strings


_PLAIN_INDICATOR = source_blank(entity_type="Indicator")
"""An indicator's fields with the values `plain_indicator` does not always set (and its
copies compact: `source_blank`)."""


def plain_indicator(obj: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """`source_fields` of a plain indicator: a `dict` without extensions (so no OpenCTI
    fallback fields) and with a valid id; None for any other object (`source_fields` then
    maps it, or words its error). The `modified` of its fields is its `stamp`.

    Written flat, for the 100,000 indicators of a bundle: each value is checked for the
    plain case first (an `int`, an ASCII `str`, a text, list or timestamp seen before: what
    the general helper made of it then) and only otherwise goes through the general helper
    (`tests/unit/test_stix_fast_path.py` compares both paths)."""
    if type(obj) is not dict or obj.get("type") != "indicator" or "extensions" in obj:
        return None
    ident = obj.get("id")
    if type(ident) is not str or not _STIX_ID.match(ident):
        return None
    get = obj.get
    lists = _lists
    times = _times
    labels = get("labels")
    found: Any  # each value in turn
    try:
        found = lists.get(tuple(labels)) if type(labels) is list else None
    except TypeError:  # an unhashable item (a `{"value": ...}` label)
        found = None
    if found is None:
        found = _strings(labels)
        if found:
            found = _remember(labels, _share(found))
        else:
            found = _strings(get("x_opencti_labels"))
            found = _share(found) if found else ()
    labels = found
    refs = get("object_marking_refs")
    try:
        found = lists.get(tuple(refs)) if type(refs) is list else None
    except TypeError:
        found = None
    if found is None:
        found = _strings(refs)
        found = _remember(refs, _share(found)) if found else ()
    refs = found
    internal_id = get("x_opencti_id")
    if internal_id is not None:
        internal_id = _opt_str(internal_id)
    # `_time` without its call when the text was seen before (falsy: None either way)
    created = get("created") or None
    found = times.get(created, _MISSING) if type(created) is str else _MISSING
    created = _time(created) if found is _MISSING else found
    modified = get("modified") or None
    found = times.get(modified, _MISSING) if type(modified) is str else _MISSING
    modified = _time(modified) if found is _MISSING else found
    valid_from = get("valid_from")
    found = times.get(valid_from, _MISSING) if type(valid_from) is str else _MISSING
    valid_from = _time(valid_from) if found is _MISSING else found
    valid_until = get("valid_until")
    found = times.get(valid_until, _MISSING) if type(valid_until) is str else _MISSING
    valid_until = _time(valid_until) if found is _MISSING else found
    confidence = get("confidence")
    if type(confidence) is not int:
        confidence = _int(confidence)
    score = get("x_opencti_score")
    if type(score) is not int:
        score = _int(score)
    name = get("name")
    if type(name) is not str or not name.isascii():
        name = clean_text(name)
    description = get("description")  # a text of `_texts` is its own `clean_text`
    found = _texts.get(description) if type(description) is str else None
    description = _share_text(clean_text(description)) if found is None else found
    pattern = get("pattern")
    pattern_type = get("pattern_type")
    found = _pattern_types.get(pattern_type) if type(pattern_type) is str else None
    if found is None:
        found = _share(clean_text(pattern_type or "stix").lower())
        if type(pattern_type) is str and len(_pattern_types) < _SHARE_MAX:
            _pattern_types[pattern_type] = found
    pattern_type = found
    platforms = get("x_mitre_platforms")
    if platforms is None:
        platforms = ()
    else:
        platforms = _strings(platforms)
        platforms = _share(platforms) if platforms else ()
    main_type = get("x_opencti_main_observable_type")  # as `description`, and "" is None
    found = _texts.get(main_type) if type(main_type) is str else None
    if not found:  # not seen, or empty (no type)
        main_type = _opt_str(main_type)
        found = _share_text(main_type) if main_type else None
    detection = get("x_opencti_detection")
    fields = _PLAIN_INDICATOR.copy()  # a copy then stores: cheaper than a 21-key literal
    fields["standard_id"] = ident
    if internal_id is not None:
        fields["internal_id"] = internal_id
    fields["name"] = name
    fields["description"] = description
    fields["pattern"] = pattern if isinstance(pattern, str) else None
    fields["pattern_type"] = pattern_type
    fields["valid_from"] = valid_from
    fields["valid_until"] = valid_until
    fields["revoked"] = get("revoked") is True
    fields["detection"] = detection if type(detection) is bool else None
    if platforms:
        fields["platforms"] = platforms
    fields["main_observable_type"] = found
    fields["hashes"] = {}
    fields["score"] = score
    fields["confidence"] = confidence
    fields["labels"] = labels
    fields["created"] = created
    fields["modified"] = modified
    return fields, refs


def stamp(obj: Mapping[str, Any]) -> datetime | None:
    """An object's `modified`, as `unwrap` compares it (`parse_time`, through `_time`)."""
    return _time(obj.get("modified"))


def newer_than(new: datetime | None, old: datetime | None) -> bool:
    """Whether an object modified at `new` replaces one modified at `old` (`unwrap`)."""
    if new is None or old is None:
        return old is None
    return new >= old


_EVENTS = ("create", "update", "delete", "merge")
_K = TypeVar("_K")


def unwrap(records: Iterable[Any]) -> list[Mapping[str, Any]]:
    """Accept STIX objects and OpenCTI stream events (`{type, data: <stix>}`) alike.

    For stream events, a later event for the same id replaces an earlier one, and a `delete`
    event removes the object (the stream's own semantics).
    """
    return unwrap_as(records, lambda obj: obj, stamp)


def unwrap_as(
    records: Iterable[Any],
    keep: Callable[[Mapping[str, Any]], _K],
    modified: Callable[[_K], datetime | None],
) -> list[_K]:
    """`unwrap`, keeping `keep(obj)` of each object instead of the object itself (the bundle
    reader keeps its mapped fields and lets the decoded dict go); `modified` reads back the
    object's `modified` from what was kept."""
    by_id: dict[str, _K] = {}
    order: dict[str, None] = {}  # each id once, where it first appeared (even if re-created)
    anonymous: list[_K] = []
    events = deleted = False
    for record in records:  # `type(...) is dict` first: decoded JSON, and cheaper than the ABC
        if type(record) is not dict and not isinstance(record, Mapping):
            continue
        event_type = record.get("type")
        if event_type in _EVENTS and isinstance(data := record.get("data"), Mapping):
            ident = str(data.get("id", ""))
            if event_type == "delete":
                by_id.pop(ident, None)
                deleted = True
                continue
            obj, events = data, True
        else:
            obj = record
            ident = record.get("id", "")
            if type(ident) is not str:
                ident = str(ident)
        if not ident:
            anonymous.append(keep(obj))
            continue
        if ident not in by_id:
            order[ident] = None
        elif not events and not newer_than(stamp(obj), modified(by_id[ident])):
            continue  # plain STIX: the latest `modified` wins, wherever it sits in the file
        by_id[ident] = keep(obj)
    if not deleted:  # `order` is `by_id`'s own order
        return [*by_id.values(), *anonymous]
    return [by_id[i] for i in order if i in by_id] + anonymous
