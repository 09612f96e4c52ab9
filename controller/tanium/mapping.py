"""Vendor JSON → pipeline values. The only place where Tanium's camelCase names appear.

The vendor models validate only the fields the controller uses and ignore the rest; `null`
stands for "absent" wherever Tanium sends it (descriptions, platforms, intrinsic ids).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from controller.model import ActualBlocklist, ActualIntel, ActualLabel, TaniumId
from controller.tanium.errors import ProtocolError

T = TypeVar("T")


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_absent(cls, value: Any, info: Any) -> Any:
        if value is None:
            field = cls.model_fields[info.field_name]
            if not field.is_required():
                return field.get_default(call_default_factory=True)
        return value


class VendorIntel(_Vendor):
    id: int
    name: str = ""
    description: str = ""
    type: str = ""
    intrinsic_id: str | None = Field(None, alias="intrinsicId")
    md5: str = ""
    size: int = 0
    revision_id: int | None = Field(None, alias="revisionId")
    label_ids: tuple[int, ...] = Field((), alias="labelIds")
    source_id: int | None = Field(None, alias="sourceId")
    platforms: tuple[str, ...] = ()

    def to_model(self) -> ActualIntel:
        return ActualIntel(
            id=TaniumId(self.id),
            name=self.name,
            description=self.description,
            intel_type=self.type,
            intrinsic_id=self.intrinsic_id,
            md5=self.md5.lower(),
            size=self.size,
            revision_id=self.revision_id,
            label_ids=tuple(TaniumId(i) for i in self.label_ids),
            source_id=TaniumId(self.source_id) if self.source_id is not None else None,
            platforms=self.platforms,
        )


class VendorLabel(_Vendor):
    id: int
    name: str

    def to_model(self) -> ActualLabel:
        return ActualLabel(id=TaniumId(self.id), name=self.name)


class VendorSource(_Vendor):
    id: int
    name: str = ""


class VendorReputation(_Vendor):
    id: int
    list: str = "blacklist"
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    notes: str = ""

    def to_model(self) -> ActualBlocklist:
        return ActualBlocklist(
            id=TaniumId(self.id),
            list=self.list,
            md5=self.md5.lower(),
            sha1=self.sha1.lower(),
            sha256=self.sha256.lower(),
            notes=self.notes,
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
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        raise ProtocolError(
            f"unexpected {model.__name__[6:].lower()} shape: {problems}",
            path=where,
            body=repr(raw)[:200],
        ) from None


def parse_list(model: type[V], raw: Any, *, where: str) -> list[V]:
    if not isinstance(raw, list):
        raise ProtocolError(
            f"expected a list, got {type(raw).__name__}", path=where, body=repr(raw)[:200]
        )
    return [parse(model, item, where=where) for item in raw]


def mapped(model: type[V], convert: Callable[[V], T], raw: Any, *, where: str) -> T:
    return convert(parse(model, raw, where=where))
