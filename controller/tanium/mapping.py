"""Vendor JSON → pipeline values. The only place where Tanium's camelCase names appear.

Each mapping reads the fields the controller uses (extra fields are ignored), turns Tanium's
`null` into the model's "absent" value, and validates the result with the model's own types in
one pass (`TypeAdapter` over the whole list: 20,000 documents take a few tens of milliseconds).
A reply that does not fit is a `ProtocolError` naming the route and the offending items.
"""

from __future__ import annotations

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


def intel_list(raw: Any, *, where: str) -> list[ActualIntel]:
    return _validate(_INTEL, [_intel_row(d) for d in _dicts(raw, where)], raw, where, "intel")


def intel_one(raw: Any, *, where: str) -> ActualIntel:
    """One document as `GET intels/{id}` returns it: with its body (`contents`), which the
    listing does not carry."""
    doc = intel_list([raw], where=where)[0]
    contents = raw.get("contents") if isinstance(raw, dict) else None
    return doc.model_copy(update={"content": contents}) if isinstance(contents, str) else doc


def label_list(raw: Any, *, where: str) -> list[ActualLabel]:
    return _validate(_LABELS, [_label_row(d) for d in _dicts(raw, where)], raw, where, "label")


def label_one(raw: Any, *, where: str) -> ActualLabel:
    return label_list([raw], where=where)[0]


def blocklist_list(raw: Any, *, where: str) -> list[ActualBlocklist]:
    rows = [_entry_row(d) for d in _dicts(raw, where)]
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
