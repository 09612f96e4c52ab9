"""The values that flow through the pipeline.

Source objects (what OpenCTI holds), desired items (what Tanium must hold), and the actual
state (what Tanium holds). Vendor field names are mapped to these once, at the edges: the
OpenCTI source and the Tanium client. Everything here is plain data without I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NewType

from pydantic import BaseModel, ConfigDict, Field

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


class DesiredIntel(Frozen):
    """One intel document as Tanium must hold it, fully rendered.

    `content` is the exact body sent to Tanium; `md5` is what Tanium will report for it.
    """

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

    @property
    def uploaded_hash(self) -> str:
        return self.sha256 or self.sha1 or self.md5


# --------------------------------------------------------------------------- actual side


class ActualIntel(Frozen):
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


class ActualLabel(Frozen):
    id: TaniumId
    name: str


class ActualBlocklist(Frozen):
    id: TaniumId
    list: str = "blacklist"
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    notes: str = ""


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
        return sum(
            1
            for d in docs
            if (last is None or (d.updated_at is not None and d.updated_at > last))
            and (settled is None or d.updated_at is None or d.updated_at <= settled)
        )
