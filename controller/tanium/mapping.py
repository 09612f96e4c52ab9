"""Vendor JSON → pipeline values. The only place where Tanium's camelCase names appear.

The vendor models validate only the fields the controller uses and ignore the rest; `null`
stands for "absent" wherever Tanium sends it (descriptions, platforms, intrinsic ids).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from controller.model import ActualBlocklist, ActualIntel, ActualLabel, TaniumId
from controller.tanium.errors import ProtocolError


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# Optional fields accept Tanium's nulls; `to_model` turns them into the model's defaults. The
# models are built with `model_construct`: the vendor model has just validated every value.


class VendorIntel(_Vendor):
    id: int
    name: str | None = None
    description: str | None = None
    type: str | None = None
    intrinsic_id: str | None = Field(None, alias="intrinsicId")
    md5: str | None = None
    size: int | None = None
    revision_id: int | None = Field(None, alias="revisionId")
    label_ids: tuple[int, ...] | None = Field(None, alias="labelIds")
    source_id: int | None = Field(None, alias="sourceId")
    platforms: tuple[str, ...] | None = None

    def to_model(self) -> ActualIntel:
        return ActualIntel.model_construct(
            id=TaniumId(self.id),
            name=self.name or "",
            description=self.description or "",
            intel_type=self.type or "",
            intrinsic_id=self.intrinsic_id,
            md5=(self.md5 or "").lower(),
            size=self.size or 0,
            revision_id=self.revision_id,
            label_ids=tuple(TaniumId(i) for i in self.label_ids or ()),
            source_id=TaniumId(self.source_id) if self.source_id is not None else None,
            platforms=self.platforms or (),
        )


class VendorLabel(_Vendor):
    id: int
    name: str

    def to_model(self) -> ActualLabel:
        return ActualLabel.model_construct(id=TaniumId(self.id), name=self.name)


class VendorSource(_Vendor):
    id: int
    name: str | None = None


class VendorReputation(_Vendor):
    id: int
    list: str | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    notes: str | None = None

    def to_model(self) -> ActualBlocklist:
        return ActualBlocklist.model_construct(
            id=TaniumId(self.id),
            list=self.list or "blacklist",
            md5=(self.md5 or "").lower(),
            sha1=(self.sha1 or "").lower(),
            sha256=(self.sha256 or "").lower(),
            notes=self.notes or "",
        )


class VendorDeployStatus(_Vendor):
    created_at: str | None = Field(None, alias="createdAt")
    modified_at: str | None = Field(None, alias="modifiedAt")
    current_revision: int | None = Field(None, alias="currentRevision")
    current_size: int | None = Field(None, alias="currentSize")


V = TypeVar("V", bound=_Vendor)


def parse(model: type[V], raw: Any, *, where: str) -> V:
    """Validate one vendor object; a malformed one is a `ProtocolError` naming `where`."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _shape_error(model, exc, raw, where) from None


def parse_list(model: type[V], raw: Any, *, where: str) -> list[V]:
    """Validate a list of vendor objects at once (one pass in pydantic-core)."""
    if not isinstance(raw, list):
        raise ProtocolError(
            f"expected a list, got {type(raw).__name__}", path=where, body=repr(raw)[:200]
        )
    try:
        return _list_adapter(model).validate_python(raw)
    except ValidationError as exc:
        raise _shape_error(model, exc, raw, where) from None


@functools.cache
def _list_adapter(model: type[V]) -> TypeAdapter[list[V]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _shape_error(model: type[_Vendor], exc: ValidationError, raw: Any, where: str
                 ) -> ProtocolError:  # fmt: skip
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
        for e in exc.errors(include_input=False)[:3]
    )
    return ProtocolError(
        f"unexpected {model.__name__[6:].lower()} shape: {problems}",
        path=where,
        body=repr(raw)[:200],
    )
