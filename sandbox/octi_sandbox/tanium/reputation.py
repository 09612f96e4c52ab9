"""Routes: the Reputation custom hash list (`/plugin/products/reputation/v3/reputations/custom`).

All semantics here are [U] apart from the request shape OpenCTI used: entries sharing any hash
are one entry (a later upload updates its hashes and notes), empty strings mean "absent", and
`append=false` replaces the whole list (switch). Hashes are stored lower-case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .config import TaniumConfig
from .models import ReputationEntry
from .routing import REP, RouteTable
from .state import TaniumState
from .web import Ctx, Reply, bad_request, not_found, page_meta

table = RouteTable()

LISTS = ("blacklist", "whitelist")
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
UPPERCASE_KEYS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA1": "sha1",
    "SHA-256": "sha256",
    "SHA256": "sha256",
}
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass
class HashUpload:
    list_name: str
    hashes: dict[str, str]
    uploaded_hash: str | None
    notes: str


def parse_upload_entry(
    item: Any, position: int, uppercase: bool, notes_field: str = "notes"
) -> HashUpload:
    if not isinstance(item, dict):
        raise bad_request(f"entry {position} must be a JSON object")
    fields = dict(item)
    if uppercase:
        for upper, lower in UPPERCASE_KEYS.items():
            if upper in fields and not fields.get(lower):
                fields[lower] = fields[upper]
    hashes: dict[str, str] = {}
    for kind, length in HASH_LENGTHS.items():
        value = fields.get(kind)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) != length or not _HEX.match(value.lower()):
            raise bad_request(f"entry {position}: {value!r} is not a valid {kind}")
        hashes[kind] = value.lower()
    if not hashes:
        raise bad_request(f"entry {position} has no md5, sha1 or sha256")
    list_name = fields.get("list") or "blacklist"
    if list_name not in LISTS:
        raise bad_request(f"entry {position}: 'list' must be one of: {', '.join(LISTS)}")
    notes = fields.get(notes_field) or fields.get("notes") or ""
    uploaded = fields.get("uploadedHash") or None
    if not isinstance(notes, str) or not (uploaded is None or isinstance(uploaded, str)):
        raise bad_request(f"entry {position}: 'notes' and 'uploadedHash' must be strings")
    return HashUpload(list_name, hashes, uploaded, notes)


def _remove(state: TaniumState, entry_id: int) -> None:
    entry = state.reputation.pop(entry_id)
    state.unindex_entry(entry)


def consolidate(state: TaniumState, upload: HashUpload, *, merge: bool = True) -> ReputationEntry:
    """Add the entry, or (`merge`) merge it into the entries sharing one of its hashes."""
    matches = (
        sorted({state.rep_by_hash[h] for h in upload.hashes.values() if h in state.rep_by_hash})
        if merge
        else []
    )
    if not matches:
        entry = ReputationEntry(
            state.next_id("reputation"),
            upload.list_name,
            None,
            None,
            None,
            None,
            upload.notes,
            state.now(),
        )
        state.reputation[entry.id] = entry
    else:
        entry = state.reputation[matches[0]]
        state.unindex_entry(entry)
        for other_id in matches[1:]:
            other = state.reputation[other_id]
            for kind in HASH_LENGTHS:
                if getattr(entry, kind) is None:
                    setattr(entry, kind, getattr(other, kind))
            _remove(state, other_id)
        entry.list_name, entry.notes = upload.list_name, upload.notes
    for kind, value in upload.hashes.items():
        setattr(entry, kind, value)
    entry.uploaded_hash = upload.uploaded_hash or entry.uploaded_hash
    state.index_entry(entry)
    return entry


@table.route(REP + "/upload", "POST", access="reputation:write")
def upload(ctx: Ctx) -> Reply:
    append = (ctx.query_one("append") or "true").lower()
    if append not in ("true", "false"):
        raise bad_request("'append' must be true or false")
    body = ctx.json()
    if not isinstance(body, list):
        raise bad_request("the request body must be a JSON array of entries")
    uppercase = ctx.config.reputation_uppercase_keys == "accept"
    notes = ctx.config.reputation_notes_field
    entries = [parse_upload_entry(item, n, uppercase, notes) for n, item in enumerate(body)]
    state = ctx.state
    if append == "false" and ctx.config.reputation_replace == "replace":
        state.reputation.clear()
        state.rep_by_hash.clear()
    merge = ctx.config.reputation_merge == "merge"
    for entry in entries:
        consolidate(state, entry, merge=merge)
    return Reply({"count": len(entries)})


def _listed(entry: dict[str, Any], config: TaniumConfig) -> dict[str, Any]:
    """An entry as listed: its notes under the configured field name."""
    if config.reputation_notes_field != "notes":
        entry[config.reputation_notes_field] = entry.pop("notes")
    return entry


@table.route(REP, "GET")
def search(ctx: Ctx) -> Reply:
    state, config = ctx.state, ctx.config
    if not config.reputation_list_route:
        raise not_found()
    limit = ctx.limit(config.reputation_page_default, config.reputation_page_max)
    offset = ctx.query_int("offset", 0)
    term = (ctx.query_one("search") or "").strip().lower()
    if not term:
        ids = list(state.reputation)
    elif (
        ctx.config.reputation_merge == "merge"
        and _HEX.match(term)
        and len(term) in (HASH_LENGTHS.values())
    ):
        ids = [state.rep_by_hash[term]] if term in state.rep_by_hash else []
    else:
        ids = [
            e.id
            for e in state.reputation.values()
            if any(term in h for h in e.hashes()) or term in e.notes.lower()
        ]
    wanted = ctx.query_one("list")
    if wanted:
        ids = [i for i in ids if state.reputation[i].list_name == wanted]
    data = [_listed(state.reputation[i].to_json(), config) for i in ids[offset : offset + limit]]
    meta = page_meta(len(state.reputation), len(ids)) if config.list_meta else None
    return Reply(data, meta=meta)


@table.route(REP + "/{id:int}", "DELETE", access="reputation:write")
def delete_one(ctx: Ctx) -> Reply:
    entry_id = ctx.path_int("id")
    if not ctx.config.reputation_delete_by_id or entry_id not in ctx.state.reputation:
        raise not_found()
    _remove(ctx.state, entry_id)
    return Reply({"deleted": [entry_id]})


@table.route(REP + "/delete", "POST", access="reputation:write")
def delete_by_hash(ctx: Ctx) -> Reply:
    body = ctx.json()
    if not isinstance(body, list) or not all(isinstance(h, str) for h in body):
        raise bad_request("the request body must be a JSON array of hash strings")
    state = ctx.state
    wanted = {h.lower() for h in body if isinstance(h, str)}
    ids = {e.id for e in state.reputation.values() if wanted & set(e.hashes())}
    for entry_id in sorted(ids):
        _remove(state, entry_id)
    return Reply({"count": len(ids)})
