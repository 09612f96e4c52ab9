"""Vendor JSON → pipeline values. The only place where Tanium's camelCase names appear.

Each mapping reads the fields the controller uses (extra fields are ignored), turns Tanium's
`null` into the model's "absent" value, and validates the result with the model's own types.
A reply that does not fit is a `ProtocolError` naming the route and the offending items.

Intel documents and Reputation entries (100,000 and more per pass) take a fast path: each
field is checked for its exact JSON type (`int`, `str`, `null`, a list of them) and the
compact value made without pydantic's validation, sharing the repeated timestamps. A page
holding anything else — a number sent as a string, a float, a boolean for an id — goes
through the validated path (`TypeAdapter` over the page), which coerces what pydantic coerces
and names what does not fit: both paths give equal values
(`tests/tanium/test_mapping_fast.py`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from controller.core.model import ActualBlocklist, ActualIntel, ActualLabel, TaniumId
from controller.tanium.errors import ProtocolError

M = TypeVar("M")


class Source(BaseModel):
    """An intel source (`GET TR/sources`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: TaniumId
    name: str = ""


class DeployStatus(BaseModel):
    """`GET TR/intel/status`: the last completed Intel DB deployment."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    created_at: str | None = Field(None, validation_alias="createdAt")
    modified_at: str | None = Field(None, validation_alias="modifiedAt")
    current_revision: int | None = Field(None, validation_alias="currentRevision")
    current_size: int | None = Field(None, validation_alias="currentSize")


def _text(value: Any) -> Any:
    return "" if value is None else value


def _hex(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else _text(value)


def _ident(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _intel_row(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": d.get("id"),
        "name": _text(d.get("name")),
        "description": _text(d.get("description")),
        "intel_type": _text(d.get("type")),
        "intrinsic_id": _ident(d.get("intrinsicId")),
        "md5": _hex(d.get("md5")),
        "size": d.get("size") or 0,
        "revision_id": d.get("revisionId"),
        "updated_at": d.get("updatedAt") or None,
        "label_ids": d.get("labelIds") or (),
        "source_id": d.get("sourceId"),
        "platforms": d.get("platforms") or (),
        "content": d.get("contents") if isinstance(d.get("contents"), str) else None,
        "schema_valid": d.get("isSchemaValid")
        if isinstance(d.get("isSchemaValid"), bool)
        else None,
    }


def _label_row(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d.get("id"), "name": d.get("name")}


def _entry_row(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": d.get("id"),
        "list": d.get("list") or "blacklist",
        "md5": _hex(d.get("md5")),
        "sha1": _hex(d.get("sha1")),
        "sha256": _hex(d.get("sha256")),
        "notes": _text(d.get("notes")) or _notes_elsewhere(d),
    }


def _notes_elsewhere(d: dict[str, Any]) -> str:
    """The notes when the server lists them under another name (unverified: no public client
    has read the list): the one string field carrying our marker, else ""."""
    return next(
        (v for k, v in sorted(d.items()) if isinstance(v, str) and "[octi-tanium:v1 " in v),
        "",
    )


_INTEL = TypeAdapter(list[ActualIntel])
_LABELS = TypeAdapter(list[ActualLabel])
_ENTRIES = TypeAdapter(list[ActualBlocklist])
_SOURCES = TypeAdapter(list[Source])


_TIME = TypeAdapter(datetime)
_DICT = {dict}


class _Slow(Exception):
    """A value that is not of its exact JSON type: the page takes the validated path."""


_new = object.__new__
# `ActualIntel`'s slots, stored through their own descriptors: its frozen dataclass
# `__init__` goes through `object.__setattr__`, which looks each name up again and costs
# twice as much (14 fields, 100,000 documents per pass). `tests/tanium/test_mapping_fast.py`
# checks that these are all of its fields and that the values equal the validated ones.
_INTEL_SLOTS = ActualIntel.__dict__
_set_id = _INTEL_SLOTS["id"].__set__
_set_name = _INTEL_SLOTS["name"].__set__
_set_description = _INTEL_SLOTS["description"].__set__
_set_intel_type = _INTEL_SLOTS["intel_type"].__set__
_set_intrinsic_id = _INTEL_SLOTS["intrinsic_id"].__set__
_set_md5 = _INTEL_SLOTS["md5"].__set__
_set_size = _INTEL_SLOTS["size"].__set__
_set_revision_id = _INTEL_SLOTS["revision_id"].__set__
_set_label_ids = _INTEL_SLOTS["label_ids"].__set__
_set_source_id = _INTEL_SLOTS["source_id"].__set__
_set_platforms = _INTEL_SLOTS["platforms"].__set__
_set_updated_at = _INTEL_SLOTS["updated_at"].__set__
_set_schema_valid = _INTEL_SLOTS["schema_valid"].__set__
_set_content = _INTEL_SLOTS["content"].__set__
FAST_INTEL_FIELDS = (
    "id",
    "name",
    "description",
    "intel_type",
    "intrinsic_id",
    "md5",
    "size",
    "revision_id",
    "label_ids",
    "source_id",
    "platforms",
    "updated_at",
    "schema_valid",
    "content",
)
"""The fields `_fast_intel` stores: all of `ActualIntel`'s (a test holds the two equal)."""


def _fast_intel(d: dict[str, Any], times: dict[str, datetime]) -> ActualIntel:
    """One listed document without pydantic's validation, or `_Slow`. Written flat: it runs
    100,000 times per pass."""
    get = d.get
    ident = get("id")
    name = get("name")
    if name is None:
        name = ""
    description = get("description")
    if description is None:
        description = ""
    kind = get("type")
    if kind is None:
        kind = ""
    intrinsic = get("intrinsicId")
    if type(intrinsic) is int:
        intrinsic = str(intrinsic)
    md5 = get("md5")
    md5 = "" if md5 is None else md5.lower() if type(md5) is str else md5
    size = get("size") or 0
    revision = get("revisionId")
    labels = get("labelIds") or ()
    source: TaniumId | None = get("sourceId")
    platforms = get("platforms") or ()
    stamp = get("updatedAt") or None
    contents = get("contents")
    valid = get("isSchemaValid")
    if not (
        type(ident) is int
        and type(name) is str
        and type(description) is str
        and type(kind) is str
        and (intrinsic is None or type(intrinsic) is str)
        and type(md5) is str
        and type(size) is int
        and (revision is None or type(revision) is int)
        and (source is None or type(source) is int)
        and (stamp is None or type(stamp) is str)
    ):
        raise _Slow
    if labels:
        if type(labels) is not list:
            raise _Slow
        for i in labels:
            if type(i) is not int:
                raise _Slow
        labels = tuple(labels)
    if platforms:
        if type(platforms) is not list:
            raise _Slow
        for p in platforms:
            if type(p) is not str:
                raise _Slow
        platforms = tuple(platforms)
    updated: datetime | None = None
    if stamp is not None:
        updated = times.get(stamp)
        if updated is None:
            try:
                updated = times[stamp] = _TIME.validate_python(stamp)
            except ValidationError:
                raise _Slow from None
    doc: ActualIntel = _new(ActualIntel)
    _set_id(doc, ident)
    _set_name(doc, name)
    _set_description(doc, description)
    _set_intel_type(doc, kind)
    _set_intrinsic_id(doc, intrinsic)
    _set_md5(doc, md5)
    _set_size(doc, size)
    _set_revision_id(doc, revision)
    _set_label_ids(doc, labels)
    _set_source_id(doc, source)
    _set_platforms(doc, platforms)
    _set_updated_at(doc, updated)
    _set_schema_valid(doc, valid if type(valid) is bool else None)
    _set_content(doc, contents if type(contents) is str else None)
    return doc


_ENTRY_SLOTS = ActualBlocklist.__dict__
_set_entry_id = _ENTRY_SLOTS["id"].__set__
_set_list = _ENTRY_SLOTS["list"].__set__
_set_entry_md5 = _ENTRY_SLOTS["md5"].__set__
_set_sha1 = _ENTRY_SLOTS["sha1"].__set__
_set_sha256 = _ENTRY_SLOTS["sha256"].__set__
_set_notes = _ENTRY_SLOTS["notes"].__set__
FAST_ENTRY_FIELDS = ("id", "list", "md5", "sha1", "sha256", "notes")
"""The fields `_fast_entry` stores: all of `ActualBlocklist`'s."""


def _fast_entry(d: dict[str, Any]) -> ActualBlocklist:
    """One Reputation entry without pydantic's validation, or `_Slow`."""
    get = d.get
    ident = get("id")
    kind = get("list") or "blacklist"
    md5 = get("md5")
    sha1 = get("sha1")
    sha256 = get("sha256")
    notes = get("notes")
    if notes is None or notes == "":
        notes = _notes_elsewhere(d)
    md5 = "" if md5 is None else md5.lower() if type(md5) is str else md5
    sha1 = "" if sha1 is None else sha1.lower() if type(sha1) is str else sha1
    sha256 = "" if sha256 is None else sha256.lower() if type(sha256) is str else sha256
    if not (
        type(ident) is int
        and type(kind) is str
        and type(md5) is str
        and type(sha1) is str
        and type(sha256) is str
        and type(notes) is str
    ):
        raise _Slow
    entry: ActualBlocklist = _new(ActualBlocklist)  # as `_fast_intel` makes a document
    _set_entry_id(entry, ident)
    _set_list(entry, kind)
    _set_entry_md5(entry, md5)
    _set_sha1(entry, sha1)
    _set_sha256(entry, sha256)
    _set_notes(entry, notes)
    return entry


def intel_list(raw: Any, *, where: str) -> list[ActualIntel]:
    docs = _dicts(raw, where)
    times: dict[str, datetime] = {}
    try:
        return [_fast_intel(d, times) for d in docs]
    except _Slow:
        return _validate(_INTEL, [_intel_row(d) for d in docs], raw, where, "intel")


def intel_one(raw: Any, *, where: str) -> ActualIntel:
    """One document as `GET intels/{id}` returns it: with its body (`contents`), which the
    listing does not carry."""
    doc = intel_list([raw], where=where)[0]
    contents = raw.get("contents") if isinstance(raw, dict) else None
    return dataclasses.replace(doc, content=contents) if isinstance(contents, str) else doc


def label_list(raw: Any, *, where: str) -> list[ActualLabel]:
    return _validate(_LABELS, [_label_row(d) for d in _dicts(raw, where)], raw, where, "label")


def label_one(raw: Any, *, where: str) -> ActualLabel:
    return label_list([raw], where=where)[0]


def blocklist_list(raw: Any, *, where: str) -> list[ActualBlocklist]:
    entries = _dicts(raw, where)
    try:
        return [_fast_entry(d) for d in entries]
    except _Slow:
        rows = [_entry_row(d) for d in entries]
        return _validate(_ENTRIES, rows, raw, where, "reputation entry")


def source_list(raw: Any, *, where: str) -> list[Source]:
    return _validate(_SOURCES, list(_dicts(raw, where)), raw, where, "source")


def source_one(raw: Any, *, where: str) -> Source:
    return source_list([raw], where=where)[0]


def deploy_status(raw: Any, *, where: str) -> DeployStatus:
    try:
        return DeployStatus.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise _shape_error(exc, raw, where, "deploy status") from None


def _dicts(raw: Any, where: str) -> list[dict[str, Any]]:
    if type(raw) is list and set(map(type, raw)) <= _DICT:  # a decoded page, checked in C
        return raw
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise ProtocolError("expected a list of objects", path=where, body=repr(raw)[:200])
    return raw


def _validate(
    adapter: TypeAdapter[list[M]], rows: list[dict[str, Any]], raw: Any, where: str, what: str
) -> list[M]:
    try:
        return adapter.validate_python(rows)
    except ValidationError as exc:
        raise _shape_error(exc, raw, where, what) from None


def _shape_error(exc: ValidationError, raw: Any, where: str, what: str) -> ProtocolError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
        for e in exc.errors(include_input=False)[:3]
    )
    return ProtocolError(f"unexpected {what} shape: {problems}", path=where,
                         body=repr(raw)[:200])  # fmt: skip
