"""The emulator's configuration: tokens, page sizes, timings and one switch per unverified fact.

Every behaviour tagged [U] in `tanium-api.md` is a field here, so a test can pin the controller
against either answer. Field names are snake_case; the JSON of `POST /__sandbox/config` may use
them or their camelCase aliases.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Permission = Literal["intel:write", "intel:deploy", "scan", "reputation:write", "alerts:read"]
ALL_PERMISSIONS: frozenset[Permission] = frozenset(
    ("intel:write", "intel:deploy", "scan", "reputation:write", "alerts:read")
)
DEFAULT_TOKEN = "token-sandbox"
"""A token holding every permission, present unless `tokens` is given."""

Seed = Literal["empty", "demo"]


def _default_tokens() -> dict[str, set[Permission]]:
    return {DEFAULT_TOKEN: set(ALL_PERMISSIONS)}


class TaniumConfig(BaseModel):
    """Everything that shapes the emulator's answers. Defaults follow the known facts."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, alias_generator=to_camel, populate_by_name=True
    )

    # ------------------------------------------------------------------ identity and auth
    tokens: dict[str, set[Permission]] = Field(default_factory=_default_tokens)
    users: dict[str, str] = Field(default_factory=lambda: {"admin": "admin"})
    """Username → password accepted by `POST /api/v2/session/login`."""
    login_permissions: set[Permission] = Field(default_factory=lambda: set(ALL_PERMISSIONS))
    session_ttl_seconds: float | None = None
    """Login sessions older than this answer 403 until a re-login (XSOAR's "expired session")."""
    seed: Seed = "empty"

    # ------------------------------------------------------------------ transport
    json_charset: bool = False
    """False: `Content-Type: application/json` exactly; True: `...; charset=utf-8`."""
    detect3_routes: bool = False
    """Also serve the TR routes under `/plugin/products/detect3/api/v1` with bare payloads."""
    reject_utf8_headers: bool = True
    """Reject `name`/`description`/`content-disposition` headers whose bytes are UTF-8 text."""
    list_meta: bool = True
    """[U] `meta` {totalCount, filteredCount} on intel, label, reputation lists (alerts: always)."""

    # ------------------------------------------------------------------ paging
    limit_over_max: Literal["clamp", "reject"] = "clamp"
    """[U] A `limit` above the maximum is clamped, or answered with 400."""
    intel_page_default: int = Field(default=100, ge=1)
    intel_page_max: int = Field(default=500, ge=1)
    intel_list_order: Literal["id_desc", "id_asc"] = "id_desc"
    """[U] Order of `GET /intels` (the XSOAR fixture lists newest first)."""
    label_page_default: int = Field(default=100, ge=1)
    """[U] Labels page size when `noLimit` is not set (100, or 500)."""
    alerts_page_default: int = Field(default=100, ge=1)
    alerts_page_max: int = Field(default=500, ge=1)
    reputation_page_default: int = Field(default=100, ge=1)
    reputation_page_max: int = Field(default=500, ge=1)

    # ------------------------------------------------------------------ sources and intel
    duplicate_source_names: Literal["allow", "conflict"] = "allow"
    default_source_name: str = "Manual"
    """Source of sourceless `POST /intels`; created on first use when missing."""
    intel_source_filter: bool = True
    """[U] `GET /intels?sourceId=` filters; False: the parameter is ignored."""
    post_existing_intrinsic_id: Literal["update", "duplicate"] = "update"
    """[U] POST of a document whose intrinsicId exists in the same source (and type)."""
    put_intrinsic_mismatch: Literal["create", "reject"] = "create"
    """PUT with another intrinsicId: create a new doc (XSOAR's note), or 400."""
    yara_intrinsic_id: Literal["filename", "null"] = "filename"
    """[U] intrinsicId of a YARA doc: its Content-Disposition filename, or null."""
    yara_validation: Literal["reject", "flag", "off"] = "reject"
    """YARA that does not compile: 400, isSchemaValid false, or accepted as is."""
    yara_externals: Literal["define", "undefined"] = "define"
    """[U] The external variables of file scanners (`filename`, `filepath`, ...) are defined
    when Tanium compiles a rule, or a rule using them does not compile."""
    stix_schema_validation: bool = True
    """Validate STIX 1.x against the official XSDs (`sdv`) into isSchemaValid."""
    signal_mitre_attack: Literal["accept", "ignore"] = "accept"
    """[U] `mitreAttack` in a signal document is stored, or ignored (null)."""
    delete_unknown: Literal["not_found", "noop"] = "not_found"
    """[U] DELETE of an unknown intel id: 404, or 200 without effect."""
    quick_add_legacy_types: bool = True
    """[U] quick-add accepts `ip_or_host` / `file_hash` besides the 4.x names."""
    intel_list_description: bool = True
    """[U] Items of `GET /intels` carry `description` (one public sample has none); the single
    `GET /intels/{id}` always does."""
    intel_content_normalization: Literal["none", "whitespace", "xml"] = "none"
    """[U] What Tanium stores of an uploaded body (and hashes into `md5`): the bytes as sent;
    trailing whitespace stripped per line, CRLF folded, no final newline; or XML re-serialised."""
    trailing_slash: Literal["either", "required", "forbidden"] = "either"
    """[U] The intel collection `TR/intels` answers with and without a trailing slash (public
    clients send `intels/`), only with it, or only without it (404 otherwise)."""
    openioc_strict: bool = False
    """[U] Reject (400) OpenIOC documents missing what every public sample carries:
    `last-modified` on the root and `authored_date` in the metadata."""
    quick_add_terms: Literal["default", "alternate"] = "default"
    """[U] The OpenIOC search terms quick-add emits: the renderer's current ones, or another
    set (a tenant whose engine matches other terms)."""

    # ------------------------------------------------------------------ labels
    duplicate_label: Literal["bad_request", "conflict"] = "bad_request"
    """[U] POST /labels with an existing name (case-insensitive): 400, or 409."""
    attach_unknown_label: Literal["server_error", "not_found"] = "server_error"
    """PUT /intels/{id}/labels with an unknown label id: 500 (XSOAR), or 404."""
    label_attach_many: bool = False
    """[U] PUT /intels/{id}/labels also takes a JSON array `[{"id": …}, …]` (several labels
    in one call). Only the single object is documented; false answers 400 to an array."""

    # ------------------------------------------------------------------ deploy, groups
    deploy_duration_seconds: float = Field(default=0.0, ge=0)
    deploy_while_running: Literal["reject", "queue"] = "reject"
    """[U] A deploy while one runs: 400 (issue #3593), or queued after it."""
    deploy_busy_message: str = "Bad Request"
    """[U] The text of that 400: issue #3593 shows only "Bad Request"."""
    unknown_group: Literal["not_found", "null"] = "not_found"
    """[U] GET /api/v2/groups/by-name/{unknown}: 404, or 200 `{"data": null}`."""

    # ------------------------------------------------------------------ reputation
    reputation_merge: Literal["merge", "append"] = "merge"
    """[U] An upload sharing a hash with an entry is merged into it (the UI's documented
    consolidation), or added as another entry."""
    reputation_replace: Literal["replace", "append"] = "replace"
    """[U] `upload?append=false` replaces the whole custom list, or appends anyway."""
    reputation_uppercase_keys: Literal["reject", "accept"] = "reject"
    """[U] Keys `MD5`/`SHA-1`/`SHA-256` are unknown (entry without hashes → 400), or accepted."""
    reputation_list_route: bool = True
    """[U] `GET REP/reputations/custom` lists the custom entries; False: 404 (no public client
    has been seen reading it)."""
    reputation_notes_field: str = Field(default="notes", min_length=1)
    """[U] The name under which an entry's notes are stored and listed (uploads may use either
    `notes` or this name)."""
    reputation_delete_by_id: bool = True
    """[U] `DELETE REP/reputations/custom/{id}` exists; False: 404 (the only delete route with
    public evidence takes hashes: `POST .../delete`)."""

    # ------------------------------------------------------------------ faults
    fault_seed: int | None = None
    """Seed of the fault injector's random generator (None: not reproducible)."""
