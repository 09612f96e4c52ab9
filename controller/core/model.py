"""The values that flow through the pipeline.

Source objects (what OpenCTI holds), desired items (what Tanium must hold), and the actual
state (what Tanium holds). Vendor field names are mapped to these once, at the edges: the
OpenCTI source and the Tanium client. Everything here is plain data without I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal, NewType

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

TaniumId = NewType("TaniumId", int)
"""A Tanium object id (intel document, label, reputation entry). Never a key."""

Key = NewType("Key", str)
"""The stable identity of a desired item: a STIX standard id or `static:<name>`."""

IntelType = Literal["openioc", "stix", "yara", "tanium-signal"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tolerant(BaseModel):
    """Models of data we do not own: extra fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


# --------------------------------------------------------------------------- source side


class SourceObject(Tolerant):
    """An OpenCTI indicator or observable, reduced to the fields the controller uses.

    `entity_type` uses OpenCTI's names: `Indicator`, `IPv4-Addr`, `IPv6-Addr`, `Domain-Name`,
    `Hostname`, `Url`, `StixFile`, `Artifact`, ...
    """

    standard_id: str
    internal_id: str | None = None
    entity_type: str
    name: str = ""
    description: str = ""
    # indicators
    pattern: str | None = None
    pattern_type: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked: bool = False
    detection: bool | None = None
    platforms: tuple[str, ...] = ()
    main_observable_type: str | None = None
    # observables
    value: str | None = None
    hashes: dict[str, str] = Field(default_factory=dict)
    # both
    score: int | None = None
    confidence: int | None = None
    labels: tuple[str, ...] = ()
    markings: tuple[str, ...] = ()
    """Marking definition names, e.g. `TLP:GREEN`."""
    created: datetime | None = None
    modified: datetime | None = None

    @property
    def is_indicator(self) -> bool:
        return self.entity_type == "Indicator"

    @classmethod
    def typed(cls, values: dict[str, Any]) -> SourceObject:
        """An object from values its mapper already gave their field types (`str`, `int`,
        aware `datetime`, tuples of `str`, a `dict` of `str`), without validation: the
        mappers (`controller.sources.stix`, `controller.sources.opencti.mapping`) build
        100,000 per pass, and validating them again cost a third of reading a bundle. The
        values missing take their defaults; the fields are stored in their declared order
        (a dump lists them in `__dict__` order). All such objects share one `model_fields_set`
        (pydantic copies it before changing it). Equal to, and dumping like, the object
        validated from the same values (`tests/unit/test_source_typed.py`).

        Input that is not already typed (a user's bundle, a test) goes through the
        constructor, which validates."""
        if not values.keys() <= _SOURCE_FIELDS_SET:
            unknown = sorted(values.keys() - _SOURCE_FIELDS_SET)
            raise TypeError(f"SourceObject has no field {unknown}")
        if "standard_id" not in values or "entity_type" not in values:
            raise TypeError("SourceObject.typed needs standard_id and entity_type")
        fields = _SOURCE_BLANK.copy()  # every field, in the declared order (not `dict()`:
        # that would make an ordinary dict of the split one, `source_blank`)
        fields.update(values)
        if "hashes" not in values:
            fields["hashes"] = {}  # its own (the default is a factory)
        return cls.adopt(fields)

    @classmethod
    def adopt(cls, fields: dict[str, Any]) -> SourceObject:
        """`typed`, from a dict that already holds every field, typed, in the declared
        order, with its own `hashes`: the object takes it over as its `__dict__`, unchecked
        and uncopied (the STIX mapping builds its fields so, `controller.sources.stix`)."""
        obj = cls.__new__(cls)
        _set_dict(obj, fields)
        _set_fields_set(obj, _SOURCE_FIELDS_SET)
        _set_extra(obj, None)
        _set_private(obj, None)
        return obj


# `BaseModel`'s slots set through their descriptors: what `object.__setattr__` does (pydantic's
# own `__setattr__` refuses a frozen model's fields) without looking each name up (`adopt`)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class _SharedKeys:
    """Nothing but its instances' `__dict__`: see `source_blank`."""


def source_blank(**values: Any) -> dict[str, Any]:
    """Every field of `SourceObject`, in the declared order, with its default (None for the
    required ones and `hashes`), then `values`: a dict to `copy()` and fill for `adopt`.

    Built as an instance's attributes, it is one of CPython's split dicts (the keys in one
    table shared by its copies, the values apart), and so are its copies as long as they
    set no other key: ~290 bytes a source object instead of 464, 17 MB at 100,000 objects.
    Only the size depends on it (a `dict(...)` of it, or another interpreter, gives an
    ordinary dict with the same items in the same order)."""
    holder = _SharedKeys()
    for name, info in SourceObject.model_fields.items():
        default = None if info.is_required() or info.default_factory is not None else info.default
        setattr(holder, name, values.pop(name, default))
    if values:
        raise TypeError(f"SourceObject has no field {sorted(values)}")
    return holder.__dict__


_SOURCE_ORDER = tuple(SourceObject.model_fields)
_SOURCE_FIELDS_SET = set(_SOURCE_ORDER)
_SOURCE_BLANK = source_blank()


class SourceSnapshot(Frozen):
    """Everything the source returned, and whether it is known to be complete."""

    objects: tuple[SourceObject, ...]
    complete: bool = True
    incomplete_reasons: tuple[str, ...] = ()
    snapshot_time: datetime | None = None
    query_hash: str = ""
    """A digest of what was asked of the source (for the plan fingerprint)."""

    def __repr__(self) -> str:  # the default would print 100,000 objects
        return (
            f"SourceSnapshot({len(self.objects)} objects, complete={self.complete}, "
            f"snapshot_time={self.snapshot_time!r})"
        )


# --------------------------------------------------------------------------- desired side


_DEFERRED = frozenset({"content", "md5"})


class DesiredIntel(Frozen):
    """One intel document as Tanium must hold it.

    `content` is the exact body sent to Tanium; `md5` is what Tanium will report for it. A
    document made by `deferred` renders both on first read, so a pass that finds a document
    in sync without its md5 (the write journal vouches for it) never renders it: every field
    but those two is there from the start, and `content`, `md5`, `model_dump`, equality,
    copies and pickling all see exactly the values an eagerly made document holds.
    """

    __slots__ = ("_render",)
    """`deferred` documents: the function that renders `content` (None once rendered; unset
    on documents made with their content)."""

    key: Key
    intel_type: IntelType
    name: str
    description: str
    """The description as Tanium will report it, including the ownership trailer."""
    content: str
    md5: str
    digest: str
    platforms: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    """Sorted, unique case-insensitively."""
    scan_groups: tuple[str, ...] = ()
    filename: str | None = None
    """Content-Disposition filename (YARA)."""
    sources: tuple[str, ...] = ()
    """The OpenCTI ids this item was made from (for the report)."""
    policies: tuple[str, ...] = ()
    """The names of the policies (IntelPolicy, StaticIntel) that selected it."""
    priority: int = 0

    @classmethod
    def deferred(
        cls,
        render: Callable[[], str],
        key: Key,
        intel_type: IntelType,
        name: str,
        description: str,
        digest: str,
        platforms: tuple[str, ...] = (),
        labels: tuple[str, ...] = (),
        scan_groups: tuple[str, ...] = (),
        filename: str | None = None,
        sources: tuple[str, ...] = (),
        policies: tuple[str, ...] = (),
        priority: int = 0,
    ) -> DesiredIntel:
        """A document whose `content` is `render()`, called on the first read of `content` or
        `md5` (or of anything that needs them: a dump, a copy, a comparison). `render` must
        be pure; it is called at most once. The fields may be given in their declared order
        (`render_intel` does: a keyword call costs a tenth of the call).

        Built without validation, like `model_construct` but cheaper (100,000 per pass): the
        renderer passes values of the declared types (`tests/unit/test_lazy_render.py`
        compares every such document with one validated from its dump). All of them share
        one `model_fields_set` (pydantic copies it before changing it). The fields are
        stored in their declared order, that of the blank copied (a dump lists them in
        `__dict__` order; `tests/render/test_finish_fast_paths.py` checks it)."""
        fields = _DEFERRED_BLANK.copy()  # a split dict, as `source_blank`'s copies are
        fields["key"] = key
        fields["intel_type"] = intel_type
        fields["name"] = name
        fields["description"] = description
        fields["digest"] = digest
        fields["platforms"] = platforms
        fields["labels"] = labels
        fields["scan_groups"] = scan_groups
        fields["filename"] = filename
        fields["sources"] = sources
        fields["policies"] = policies
        fields["priority"] = priority
        doc = _new_intel(cls)
        _set_dict(doc, fields)
        _set_fields_set(doc, _FIELDS_SET)
        _set_extra(doc, None)
        _set_private(doc, None)
        _set_render(doc, render)
        return doc

    @property
    def rendered(self) -> bool:
        """Whether `content` and `md5` are there (always, unless made by `deferred` and not
        read yet)."""
        return "content" in self.__dict__

    def _materialise(self) -> None:
        if "content" in self.__dict__:
            return
        render: Callable[[], str] = object.__getattribute__(self, "_render")
        content = render()
        # every field in its declared order (a dump lists them in `__dict__` order), in a
        # split dict too
        values = _RENDERED_BLANK.copy()
        values.update(self.__dict__)
        values["content"] = content
        values["md5"] = hashlib.md5(content.encode("utf-8")).hexdigest()
        object.__setattr__(self, "__dict__", values)
        object.__setattr__(self, "_render", None)

    if not TYPE_CHECKING:  # pydantic's own `__getattr__` exists only at run time too

        def __getattr__(self, name: str) -> Any:
            if name in _DEFERRED:  # a field missing from `__dict__`: not rendered yet
                self._materialise()
                return self.__dict__[name]
            return super().__getattr__(name)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        self._materialise()
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        self._materialise()
        return super().model_dump_json(**kwargs)

    def __eq__(self, other: object) -> bool:
        self._materialise()
        if isinstance(other, DesiredIntel):
            other._materialise()
        return super().__eq__(other)

    def __hash__(self) -> int:
        self._materialise()
        return hash(tuple(self.__dict__[name] for name in _FIELDS))

    def __copy__(self) -> DesiredIntel:
        self._materialise()
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> DesiredIntel:
        self._materialise()
        return super().__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        self._materialise()
        return super().__getstate__()


_FIELDS = tuple(DesiredIntel.model_fields)
_FIELDS_SET = set(_FIELDS)
_new_intel = DesiredIntel.__new__
_set_render = DesiredIntel.__dict__["_render"].__set__


class _DeferredKeys:
    """Nothing but its instances' `__dict__`: see `_split_blank`."""


class _RenderedKeys:
    """The same, for rendered documents (a key table of their own: every field)."""


def _split_blank(holder: object, names: Iterable[str]) -> dict[str, Any]:
    """`names` → None, in that order, as `holder`'s attributes: one of CPython's split dicts
    (see `source_blank`), whose copies share its key table as long as they set no other
    key: ~300 bytes a document's `__dict__` instead of 464, 17 MB at 100,000 documents.
    Only the size depends on it (elsewhere: an ordinary dict, the same items, same order)."""
    for name in names:
        setattr(holder, name, None)
    return holder.__dict__


_DEFERRED_BLANK = _split_blank(_DeferredKeys(), (n for n in _FIELDS if n not in _DEFERRED))
_RENDERED_BLANK = _split_blank(_RenderedKeys(), _FIELDS)


class DesiredBlocklist(Frozen):
    """One Reputation blocklist entry (a file, keyed by its strongest hash)."""

    key: Key
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    notes: str
    digest: str
    name: str
    sources: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    priority: int = 0

    @classmethod
    def typed(
        cls,
        *,
        key: Key,
        md5: str,
        sha1: str,
        sha256: str,
        notes: str,
        digest: str,
        name: str,
        sources: tuple[str, ...],
        policies: tuple[str, ...],
        priority: int,
    ) -> DesiredBlocklist:
        """`model_construct` of every field (values of the declared types, not validated
        again: 25,000 per pass), without its per-call work; all entries share one
        `model_fields_set`. Equal to, and dumping like, the entry validated from the same
        values (`tests/render/test_blocklist_typed.py`)."""
        entry = _new_entry(cls)
        _set_dict(
            entry,
            {
                "key": key,
                "md5": md5,
                "sha1": sha1,
                "sha256": sha256,
                "notes": notes,
                "digest": digest,
                "name": name,
                "sources": sources,
                "policies": policies,
                "priority": priority,
            },
        )
        _set_fields_set(entry, _BLOCKLIST_FIELDS_SET)
        _set_extra(entry, None)
        _set_private(entry, None)
        return entry

    @property
    def uploaded_hash(self) -> str:
        return self.sha256 or self.sha1 or self.md5


_BLOCKLIST_FIELDS_SET = set(DesiredBlocklist.model_fields)
_new_entry = DesiredBlocklist.__new__


# --------------------------------------------------------------------------- actual side


@dataclass(frozen=True, slots=True)
class ActualIntel:
    """One intel document as Tanium lists it.

    A frozen slotted dataclass, not a pydantic model: a pass holds 100,000 and more, and each
    costs ~150 bytes of overhead instead of ~1,400 (a `__dict__` and a `model_fields_set`
    each). Made without checks: the Tanium mapping (`controller/tanium/mapping.py`) checks the
    vendor's values first. Pydantic still validates it from a dict inside `ActualState` (a
    snapshot file: unknown fields refused) and dumps it as a model (`to_json`)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    id: TaniumId
    name: str = ""
    description: str = ""
    intel_type: str = ""
    intrinsic_id: str | None = None
    md5: str = ""
    size: int = 0
    revision_id: int | None = None
    label_ids: tuple[TaniumId, ...] = ()
    source_id: TaniumId | None = None
    platforms: tuple[str, ...] = ()
    updated_at: datetime | None = None
    schema_valid: bool | None = None
    """Tanium's `isSchemaValid` (None: not reported). False: Tanium stored the document but
    says it does not validate, so its engine may never match it."""
    content: str | None = None
    """The document's body, when the reader has it (the listing does not carry it): an update
    then shows what moved inside the content, not only the md5."""

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values, as a snapshot file holds them."""
        return _as_json(self)


class ActualLabel(Frozen):
    id: TaniumId
    name: str


@dataclass(frozen=True, slots=True)
class ActualBlocklist:
    """One Reputation custom-list entry; compact like `ActualIntel` (25,000 per pass at
    100,000 indicators)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    id: TaniumId
    list: str = "blacklist"
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values, as a snapshot file holds them."""
        return _as_json(self)


_DUMPERS: dict[type, TypeAdapter[Any]] = {}


def _as_json(value: ActualIntel | ActualBlocklist) -> dict[str, Any]:
    kind = type(value)
    dumper = _DUMPERS.get(kind)
    if dumper is None:
        dumper = _DUMPERS[kind] = TypeAdapter(kind)
    dumped: dict[str, Any] = dumper.dump_python(value, mode="json")
    return dumped


_UPDATED_AT = attrgetter("updated_at")


class ActualState(Frozen):
    """What Tanium holds: the managed source's documents, all labels, the custom blocklist."""

    source_id: TaniumId | None
    source_name: str
    intel: tuple[ActualIntel, ...] = ()
    labels: tuple[ActualLabel, ...] = ()
    blocklist: tuple[ActualBlocklist, ...] = ()
    adoptable: tuple[ActualIntel, ...] = ()
    """Documents of the sources named in `Settings.adopt.fromSources`, with their content:
    candidates for migration (never owned)."""
    blocklist_error: str | None = None
    """Why the Reputation list could not be read (None: it was): the blocklist half of the
    diff then plans nothing, the intel half proceeds."""
    deploy_known: bool = False
    """Whether `intel/status` could be read (the token may lack the permission)."""
    last_deploy_at: datetime | None = None
    """When the last completed Intel DB deployment was requested (None: never)."""

    def __repr__(self) -> str:
        return (
            f"ActualState(source={self.source_name!r}, {len(self.intel)} intel, "
            f"{len(self.labels)} labels, {len(self.blocklist)} blocklist entries)"
        )

    def undeployed(
        self, docs: tuple[ActualIntel, ...] | list[ActualIntel], *, settled: datetime | None = None
    ) -> int:
        """How many of `docs` changed after the last completed deployment (0 when unknown),
        counting only changes made before `settled` (a deployment may still be running)."""
        if not self.deploy_known:
            return 0
        last = self.last_deploy_at
        if last is not None:
            # the usual answer, found in C: nothing changed since the last deploy (the newest
            # change against `last` once: the documents' times share one tzinfo, so comparing
            # them with each other costs no `utcoffset` call, comparing each with `last` does)
            newest = max(filter(None, map(_UPDATED_AT, docs)), default=None)
            if newest is None or newest <= last:
                return 0
        return sum(
            1
            for d in docs
            if (last is None or (d.updated_at is not None and d.updated_at > last))
            and (settled is None or d.updated_at is None or d.updated_at <= settled)
        )
