"""The policy language: Kubernetes-style documents, camelCase keys, unknown keys forbidden.

Kinds: `IntelPolicy`, `StaticIntel`, `Exclusion`, `Settings`. The models here are the single
source of truth: the JSON Schema in `schemas/policy.schema.json` is generated from them, and
the attribute docstrings become its descriptions (what an editor shows on hover).

Checks that concern one field live here; checks that relate several fields of one document
(conflicting selectors) or several documents live in `checks.py`, so that one run reports
them all with their positions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Value types live in fields.py; re-exported here, where the rest of the code looks for them.
from controller.policy.fields import DURATION_PATTERN as DURATION_PATTERN
from controller.policy.fields import HASH_LENGTHS as HASH_LENGTHS
from controller.policy.fields import HASH_PATTERN as HASH_PATTERN
from controller.policy.fields import OPENCTI_ID_PATTERN as OPENCTI_ID_PATTERN
from controller.policy.fields import Duration as Duration
from controller.policy.fields import ExclusionValue as ExclusionValue
from controller.policy.fields import Hash as Hash
from controller.policy.fields import OpenCtiId as OpenCtiId
from controller.policy.fields import Timestamp as Timestamp
from controller.policy.fields import hash_problem as hash_problem
from controller.policy.fields import parse_duration as parse_duration

API_VERSION = "octi-tanium/v1"

PATTERN_TYPES = (
    "stix", "yara", "tanium-signal", "sigma", "snort", "suricata", "pcre", "spl", "eql",
    "shodan", "sublime", "openioc", "kql", "wazuh",
)  # fmt: skip
SUPPORTED_PATTERN_TYPES = ("stix", "yara", "tanium-signal")
OBSERVABLE_TYPES = (
    "IPv4-Addr", "IPv6-Addr", "Domain-Name", "Hostname", "Url", "StixFile", "Artifact",
    "Email-Addr", "Mac-Addr", "Process", "Windows-Registry-Key", "Directory", "Mutex",
    "Network-Traffic", "User-Account", "Autonomous-System", "Cryptocurrency-Wallet",
    "Email-Message", "Software", "X509-Certificate", "User-Agent", "Text",
)  # fmt: skip
ENTITY_TYPES = ("Indicator", *OBSERVABLE_TYPES)
FILE_TYPES = ("StixFile", "Artifact")
"""Observable types that carry file hashes (what the Reputation blocklist can hold)."""
TLP_MARKINGS = ("TLP:CLEAR", "TLP:WHITE", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
PLATFORMS = ("windows", "linux", "mac")
STATIC_TYPES = ("yara", "tanium-signal", "hashes")

EntityType = Literal[ENTITY_TYPES]  # type: ignore[valid-type]
ObservableType = Literal[OBSERVABLE_TYPES]  # type: ignore[valid-type]
PatternType = Literal[PATTERN_TYPES]  # type: ignore[valid-type]
Marking = Literal[TLP_MARKINGS]  # type: ignore[valid-type]
Platform = Literal[PLATFORMS]  # type: ignore[valid-type]
StaticType = Literal[STATIC_TYPES]  # type: ignore[valid-type]


def policy_error(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error that points below the model raising it (`at` is a camelCase path)."""
    return PydanticCustomError("policy", "{message}", {"message": message, "at": list(at)})


Label = Annotated[str, Field(min_length=1, max_length=200)]


class Spec(BaseModel):
    """Base of every model we own: camelCase keys, unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Metadata(Spec):
    """Identity of a document: `name` is unique per kind across all policy files."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
    """Unique per kind: letters, digits, `.`, `_`, `-`, starting with a letter or digit."""
    description: str = ""
    """Free text for reviewers."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Free key/value pairs for your own bookkeeping (owner, ticket…); not sent anywhere."""


# --------------------------------------------------------------------------- IntelPolicy


class LabelSelector(Spec):
    """OpenCTI labels, compared case-insensitively."""

    any_of: tuple[Label, ...] = ()
    """At least one of these labels."""
    all_of: tuple[Label, ...] = ()
    """Every one of these labels."""
    none_of: tuple[Label, ...] = ()
    """None of these labels."""


class TimeWindow(Spec):
    """A window on a timestamp: absolute bounds (ISO 8601) or `within` a duration of now."""

    after: Timestamp | None = None
    """Only objects at or after this instant (a date means midnight UTC)."""
    before: Timestamp | None = None
    """Only objects before this instant."""
    within: Duration | None = None
    """Only objects within this duration of now (`90d`): a rolling window."""

    @field_validator("after", "before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Select(Spec):
    """Which OpenCTI objects a policy takes. An empty select takes everything."""

    entity_types: tuple[EntityType, ...] = ()
    """`Indicator` and/or observable types; empty = all of them."""
    labels: LabelSelector = LabelSelector()
    """Label conditions (anyOf / allOf / noneOf)."""
    pattern_types: tuple[PatternType, ...] = ()
    """For indicators: their pattern type; empty = every type Tanium can hold."""
    observable_types: tuple[ObservableType, ...] = ()
    """Indicators: their main observable type (`x_opencti_main_observable_type`);
    observables: their own type."""
    min_score: Annotated[int, Field(ge=0, le=100)] | None = None
    """Only objects whose OpenCTI score is at least this (0-100)."""
    min_confidence: Annotated[int, Field(ge=0, le=100)] | None = None
    """Only objects whose confidence is at least this (0-100)."""
    markings: tuple[Marking, ...] = ()
    """Allowed TLP markings; empty = every marking except TLP:RED."""
    allow_red: bool = False
    """Must be true for `markings` to list TLP:RED: red content never leaves OpenCTI otherwise."""
    created: TimeWindow | None = None
    """A window on the object's creation time."""
    updated: TimeWindow | None = None
    """A window on the object's last modification time."""
    include_revoked: bool = False
    """Also take revoked indicators (never wise: they are deleted from Tanium by default)."""
    include_expired: bool = False
    """Also take indicators whose `valid_until` has passed."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "required": ["markings"],
                "properties": {"markings": {"contains": {"const": "TLP:RED"}}},
            },
            "then": {"required": ["allowRed"], "properties": {"allowRed": {"const": True}}},
        }
    )

    @model_validator(mode="after")
    def _red_needs_allow_red(self) -> Select:
        if "TLP:RED" in self.markings and not self.allow_red:
            raise policy_error(
                "markings lists TLP:RED but allowRed is not true: TLP:RED content never "
                "leaves OpenCTI unless the policy says `allowRed: true`",
                "markings",
                self.markings.index("TLP:RED"),
            )
        return self


class IntelTarget(Spec):
    """Intel documents in the managed Threat Response source."""

    labels: tuple[Label, ...] = ()
    """Extra Tanium labels on every document this policy produces (OpenCTI labels are kept)."""
    platforms: tuple[Platform, ...] = ()
    """Restrict the documents to these platforms; empty = what the indicator says, else all."""
    urls: bool = True
    """Sync URL documents. No public Tanium source confirms the OpenIOC term URLs are matched
    on (`UrlHistoryItem/URL`): set false until `octi-tanium doctor` or a test on your tenant
    confirms them (docs/sync-matrix.md)."""


class BlocklistTarget(Spec):
    """The Reputation custom blocklist: file hashes only."""

    list: Literal["blacklist"] = "blacklist"
    """The Reputation list (the API calls the blocklist `blacklist`)."""
    stix_hash_patterns: bool = True
    """Single-comparison STIX hash patterns also feed the blocklist."""


class QuickScanTarget(Spec):
    """Quick-scan computer groups when the policy's intel changes."""

    computer_groups: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    """Tanium computer group names (as shown in the console)."""


class Target(Spec):
    """Where the selected objects go; at least `intel` or `blocklist`."""

    intel: IntelTarget | None = None
    """Intel documents (STIX, YARA, Tanium Signal, OpenIOC for observables)."""
    blocklist: BlocklistTarget | None = None
    """Reputation blocklist entries (file hashes)."""
    quick_scan: QuickScanTarget | None = None
    """Quick scans after a deploy (needs `intel`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["intel"]}, {"required": ["blocklist"]}],
            "dependentRequired": {"quickScan": ["intel"]},
        }
    )

    @model_validator(mode="after")
    def _something(self) -> Target:
        if self.intel is None and self.blocklist is None:
            raise policy_error("target must name at least one of: intel, blocklist")
        if self.quick_scan is not None and self.intel is None:
            raise policy_error(
                "target.quickScan needs target.intel (scans run intel documents)", "quickScan"
            )
        return self


DriftMode = Literal["correct", "warn"]


class IntelPolicySpec(Spec):
    """Select OpenCTI objects and say where they go."""

    select: Select = Select()
    """What to take from OpenCTI; `{}` takes everything (except TLP:RED, revoked, expired)."""
    target: Target
    """Where it goes in Tanium."""
    priority: Annotated[int, Field(ge=0, le=1000)] = 100
    """When policies overlap, the highest priority decides labels and platforms."""
    drift: DriftMode = "correct"
    """What `apply`/`run` do with a document edited in Tanium (reason `drift`): `correct` it,
    or `warn` (report it, leave it). Where policies overlap, `correct` wins."""


# --------------------------------------------------------------------------- StaticIntel


class StaticIntelSpec(Spec):
    """Intel kept in Git: a YARA rule, a Tanium Signal or a hash list, inline or from a file."""

    type: StaticType
    """`yara`, `tanium-signal` or `hashes`."""
    content: str | None = None
    """The content inline (YARA source, signal expression or JSON, one hash a line)."""
    file: str | None = None
    """Path to the content, relative to the policy file, inside the policy folder."""
    hashes: tuple[Hash, ...] = ()
    """For `type: hashes`: the hashes inline (MD5, SHA-1 or SHA-256)."""
    name: str | None = None
    """The intel document name in Tanium; default: `metadata.name`."""
    description: str = ""
    """The intel document description in Tanium."""
    labels: tuple[Label, ...] = ()
    """Tanium labels on the document."""
    platforms: tuple[Platform, ...] = ()
    """Platforms of the document; empty = all."""
    quick_scan: QuickScanTarget | None = None
    """Quick-scan these groups when the document changes."""
    priority: Annotated[int, Field(ge=0, le=1000)] = 100
    """Ordering among documents (higher first)."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {"required": ["content", "file"]},
            "if": {"properties": {"type": {"enum": ["yara", "tanium-signal"]}}},
            "then": {"anyOf": [{"required": ["content"]}, {"required": ["file"]}]},
            "else": {
                "anyOf": [
                    {"required": ["content"]},
                    {"required": ["file"]},
                    {"required": ["hashes"]},
                ]
            },
        }
    )

    @model_validator(mode="after")
    def _one_content(self) -> StaticIntelSpec:
        if self.content is not None and self.file is not None:
            raise policy_error(
                "give either `content` (inline) or `file` (a path), not both", "file"
            )
        if self.type == "hashes":
            if not self.hashes and self.content is None and self.file is None:
                raise policy_error("a hashes StaticIntel needs `hashes`, `content` or `file`")
        elif self.content is None and self.file is None:
            raise policy_error(
                f"a {self.type} StaticIntel needs `content` (inline) or `file` (a path)"
            )
        return self


# --------------------------------------------------------------------------- Exclusion


class ExclusionSpec(Spec):
    """An allowlist: what must never be pushed to Tanium, whatever a policy selects."""

    values: tuple[ExclusionValue, ...] = ()
    """Literal values (IPs, domains, URLs) or CIDR ranges (10.0.0.0/8, 2001:db8::/32)."""
    hashes: tuple[Hash, ...] = ()
    """File hashes (MD5, SHA-1, SHA-256); a file matching any of them is excluded."""
    ids: tuple[OpenCtiId, ...] = ()
    """OpenCTI ids (standard or internal)."""
    labels: tuple[Label, ...] = ()
    """Objects carrying any of these OpenCTI labels."""
    reason: Annotated[str, Field(min_length=1)]
    """Why: shown in the plan next to every excluded object."""


# --------------------------------------------------------------------------- Settings


class DeletionBudget(Spec):
    """How much one run may delete before the plan is blocked."""

    max: Annotated[int, Field(ge=0)] = 500
    """At most this many deletes per run."""
    max_percent: Annotated[float, Field(ge=0, le=100)] = 20.0
    """At most this percentage of the owned objects per run."""
    allow_empty: bool = False
    """Allow deleting everything when the desired set is empty."""


class AdoptSettings(Spec):
    """Migration from OpenCTI's Tanium connector: take over what it left in Tanium."""

    from_sources: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()
    """Intel sources whose documents matching a desired item (the same values, or the same
    YARA / Signal content) are replaced by octi-tanium's: ours created, theirs deleted
    (reason `migrated`). Documents matching nothing desired are never touched."""
    blocklist: bool = False
    """Take over, in place, Reputation blocklist entries without an octi-tanium marker whose
    hashes are those of a desired file (reason `adopted`)."""


class DeploySettings(Spec):
    """Intel DB deployment after intel changes."""

    mode: Literal["auto", "never"] = "auto"
    """`auto`: one deploy per apply when intel changed; `never`: leave it to an operator."""
    retry_after: Duration = "15m"
    """A document changed longer ago than this and still not in a completed deployment (the
    deploy failed, or the pass was cut short) gets a deploy in the next pass. Deployments take
    minutes, so a shorter value can deploy twice."""


class QuickScanSettings(Spec):
    """Quick scans requested by policies."""

    enabled: bool = True
    """Run the quick scans the policies ask for."""
    max_per_run: Annotated[int, Field(ge=0)] = 50
    """At most this many quick scans per run (coalesced by computer group)."""


class Quotas(Spec):
    """Upper bounds on what the controller keeps in Tanium; the excess is skipped (`quota`)."""

    max_intel: Annotated[int, Field(ge=0)] | None = None
    """At most this many intel documents (highest priority and score first)."""
    max_blocklist: Annotated[int, Field(ge=0)] | None = None
    """At most this many Reputation blocklist entries."""


class ChangeWindow(Spec):
    """A time when `run` may write: from each start of `cron` for `duration`."""

    cron: Annotated[str, Field(min_length=1, examples=["0 6 * * 1-5"])]
    """Start times, a five-field crontab expression (minute hour day month weekday)."""
    duration: Duration
    """How long the window stays open after each start."""
    timezone: str = "UTC"
    """IANA time zone of the cron expression."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        from controller.policy.cron import cron_trigger

        try:
            cron_trigger(value, ZoneInfo("UTC"))
        except ValueError as exc:
            raise PydanticCustomError(
                "cron",
                "not a crontab expression (minute hour day month weekday): {why}",
                {"why": str(exc)},
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "unknown time zone {zone!r} (e.g. UTC, Europe/Paris)", {"zone": value}
            ) from None
        return value


class Schedule(Spec):
    """The scheduled reconciler (`octi-tanium run`); re-read at every pass."""

    interval: Duration = "15m"
    """Time between two reconcile passes."""
    jitter: Duration = "0s"
    """Up to this much is added at random to each interval (replicas and installations do not
    hit OpenCTI and Tanium in step)."""
    windows: list[ChangeWindow] = []
    """When set, `run` writes only inside one of these windows; outside, a pass plans and
    reports only. Empty: always."""


class SettingsSpec(Spec):
    """Installation-wide settings. At most one Settings document."""

    source: Annotated[str, Field(min_length=1, max_length=200)] = "OpenCTI (octi-tanium)"
    """Name of the Threat Response intel source the controller owns."""
    deletion_budget: DeletionBudget = DeletionBudget()
    """Guard against mass deletion."""
    deploy: DeploySettings = DeploySettings()
    """Intel DB deployment."""
    quick_scan: QuickScanSettings = QuickScanSettings()
    """Quick-scan policy."""
    quotas: Quotas = Quotas()
    """Upper bounds."""
    schedule: Schedule = Schedule()
    """The `run` schedule."""
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    """Parallel requests to Tanium."""
    adopt: AdoptSettings = AdoptSettings()
    """Migration from OpenCTI's Tanium connector (see docs/migration.md)."""


# --------------------------------------------------------------------------- documents


class _Document(Spec):
    api_version: Literal["octi-tanium/v1"]
    """Always `octi-tanium/v1`."""
    metadata: Metadata
    """Name and description."""


class IntelPolicy(_Document):
    """Selects OpenCTI indicators and observables and says where they go in Tanium."""

    kind: Literal["IntelPolicy"]
    spec: IntelPolicySpec


class StaticIntel(_Document):
    """Intel kept in Git itself: a YARA rule, a Tanium Signal or a hash list."""

    kind: Literal["StaticIntel"]
    spec: StaticIntelSpec


class Exclusion(_Document):
    """An allowlist: values, hashes, ids and labels that must never be pushed."""

    kind: Literal["Exclusion"]
    spec: ExclusionSpec


class Settings(_Document):
    """Installation-wide settings (at most one)."""

    kind: Literal["Settings"]
    spec: SettingsSpec = SettingsSpec()


Document = Annotated[IntelPolicy | StaticIntel | Exclusion | Settings, Field(discriminator="kind")]
KINDS = ("IntelPolicy", "StaticIntel", "Exclusion", "Settings")
DOCUMENT_MODELS: dict[str, type[BaseModel]] = {
    "IntelPolicy": IntelPolicy,
    "StaticIntel": StaticIntel,
    "Exclusion": Exclusion,
    "Settings": Settings,
}


def effective_name(doc: StaticIntel) -> str:
    """The intel document name a StaticIntel produces in Tanium."""
    return doc.spec.name or doc.metadata.name
