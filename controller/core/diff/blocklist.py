"""The Reputation blocklist half of the diff. Pure.

The custom list is global and consolidates entries that share a hash, so ownership is
stricter than for intel: an entry is ours only when it is on the blacklist, carries this
installation's marker, and its marker key is the one its own hashes give. A desired file whose
hash is already held by an entry we do not own is never uploaded (the upload would merge into,
and take over, somebody else's entry); an owned entry that shares a hash with a desired file
under another key is updated in place rather than replaced.
"""

from __future__ import annotations

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.changes import document_changes
from controller.core.diff.common import (
    DiffResult,
    change_reason,
    conflict,
    create_item,
    delete_item,
    noop_item,
    origins,
    owned_split,
    payload,
)
from controller.core.foreign import blocklist_name, entry_name
from controller.core.model import ActualBlocklist, ActualState, DesiredBlocklist, Key, TaniumId
from controller.core.plan import CopyKey, PlanItem, noop_of
from controller.core.reasons import Reason
from controller.render.marker import (
    ListingKeys,
    owned_blocklist_key,
    owned_blocklist_keys,
    parse_marker,
)

_IN_SYNC = Reason.IN_SYNC


def diff_blocklist(
    desired: DesiredState,
    actual: ActualState,
    installation: str,
    adopt: bool = False,
    keys: ListingKeys | None = None,
) -> DiffResult:
    """`adopt` (`Settings.adopt.blocklist`): unowned entries holding only a desired file's
    hashes are taken over in place (reason `adopted`) instead of reported as conflicts.
    `keys`: the listings' ownership keys, when the pass shares them (`ListingKeys`)."""
    out = DiffResult()
    if actual.blocklist_error is not None:
        # nothing known of the list: no upload (ownership unknown), above all no delete
        wanted = len(desired.blocklist)
        out.diagnostics.append(
            Diagnostic(
                severity="error" if wanted else "warning",
                message=(
                    f"the Reputation blocklist could not be read, so its {wanted} desired "
                    "entries are neither uploaded nor deleted this pass (the intel half "
                    f"proceeds): {actual.blocklist_error}"
                ),
            )
        )
        return out

    def current(key: Key, entry: ActualBlocklist) -> bool:
        want = desired.blocklist.get(key)
        return want is not None and entry.notes == want.notes

    known = {key: w.sha256 or w.sha1 or w.md5 for key, w in desired.blocklist.items()}
    entries = actual.blocklist
    listed_keys = (
        keys.blocklist(entries, installation, known)
        if keys is not None
        else owned_blocklist_keys(entries, installation, known)
    )
    owned, unowned, duplicates = owned_split(entries, listed_keys, current)
    out.owned, out.unowned = len(owned) + len(duplicates), len(unowned)
    out.owned_from_source = out.owned  # Git holds no blocklist entries
    holder: dict[str, ActualBlocklist] = {}
    hold = holder.setdefault
    for entry in entries:  # `entry_hashes`, unrolled: 25,000 entries per pass
        if entry.md5:
            hold(entry.md5.lower(), entry)
        if entry.sha1:
            hold(entry.sha1.lower(), entry)
        if entry.sha256:
            hold(entry.sha256.lower(), entry)
    owner_key = {entry.id: key for key, entry in owned.items()}
    taken: set[Key] = desired.blocklist.keys() & owned.keys()
    # every entry ours, each under its own key (the usual list): no hash can be held by an
    # entry we do not own, so `_held_elsewhere` is never asked (adoptions only add owners)
    foreign = bool(unowned or duplicates)
    items = out.items
    append, noop = items.append, noop_of
    # The loop is written flat for its common case, an owned entry in sync (25,000 per pass):
    # the no-op item made here (as `noop_item` makes it) rather than through two more calls.
    for key, want in desired.blocklist.items():
        have = owned.get(key)
        if have is None:
            adopted = _adoptable(want, holder, owner_key) if adopt else None
            if adopted is not None:
                owner_key[adopted.id] = key
                append(_adopt(want, adopted))
                continue
            found = _overlapping(want, holder, owner_key, taken, out)
            if found is False:
                continue
            have = found if isinstance(found, ActualBlocklist) else None
        elif foreign and _held_elsewhere(want, have, holder, owner_key, out):
            # keep ours as it is (neither changed nor deleted): its new hash belongs to
            # somebody else's entry, and an upload would merge into it
            append(noop_item("blocklist", want, have.id, Reason.CONFLICT))
            continue
        if have is None:
            append(create_item("blocklist", want))
            continue
        taken.add(owner_key[have.id])
        if (  # `_compare`'s no-op, without building its two dicts (25,000 per pass)
            have.notes == want.notes
            and have.md5.lower() == want.md5
            and have.sha1.lower() == want.sha1
            and have.sha256.lower() == want.sha256
        ):
            sources = want.sources
            for source in sources:  # as `origins` does
                if source.startswith("static:"):
                    sources = tuple(s for s in sources if not s.startswith("static:"))
                    break
            append(
                noop("blocklist", want.key, _IN_SYNC, want.name, have.id, sources, want.policies)
            )
        else:
            append(_compare(want, have, owner_key[have.id]))
    if not owned.keys() <= taken:  # (checked in C: usually every owned entry is desired)
        for key, entry in owned.items():
            if key not in desired.blocklist and key not in taken:
                name = entry_name(entry)
                gone = desired.gone.get(key)
                out.deletes.append(delete_item(key, "blocklist", entry.id, name, gone))
    for extra in duplicates:
        name = entry_name(extra)
        of = owned_blocklist_key(extra, installation)
        assert of is not None  # a duplicate is a copy of an owned key
        copy = CopyKey(of, extra.id)
        out.deletes.append(delete_item(copy, "blocklist", extra.id, name, Reason.DUPLICATE))
    return out


def entry_hashes(entry: ActualBlocklist) -> list[str]:
    """The hashes an entry holds, lower-cased: what the list matches a desired file against."""
    return [h.lower() for h in (entry.md5, entry.sha1, entry.sha256) if h]


def _held_elsewhere(
    want: DesiredBlocklist,
    have: ActualBlocklist,
    holder: dict[str, ActualBlocklist],
    owner_key: dict[TaniumId, Key],
    out: DiffResult,
) -> bool:
    """Whether a hash `want` adds to our entry is held by an entry we do not own."""
    for value in (want.md5, want.sha1, want.sha256):
        if not value:
            continue
        entry = holder.get(value)
        if entry is None or entry is have or entry.id == have.id:
            continue
        if owner_key.get(entry.id) is not None:
            continue
        _conflict(want, value, entry, "our entry is kept as it is", out)
        return True
    return False


def adoptable(want: DesiredBlocklist, entry: ActualBlocklist) -> bool:
    """An entry octi-tanium may take over for `want`: on the blacklist, and holding no hash
    but `want`'s (so taking it over removes nothing else from the list)."""
    wanted = {h for h in (want.md5, want.sha1, want.sha256) if h}
    held = entry_hashes(entry)
    return entry.list == "blacklist" and bool(held) and set(held) <= wanted


def _adoptable(
    want: DesiredBlocklist, holder: dict[str, ActualBlocklist], owner_key: dict[TaniumId, Key]
) -> ActualBlocklist | None:
    for value in (want.sha256, want.sha1, want.md5):
        entry = holder.get(value) if value else None
        if entry is not None and entry.id not in owner_key and adoptable(want, entry):
            return entry
    return None


def _adopt(want: DesiredBlocklist, entry: ActualBlocklist) -> PlanItem:
    have_fields, want_fields = _fields(entry), _wanted(want)
    return PlanItem(
        action="update",
        kind="blocklist",
        key=want.key,
        reason=Reason.ADOPTED,
        name=want.name,
        changes=tuple(document_changes(have_fields, want_fields)),
        tanium_id=entry.id,
        desired=payload(want),
        before=have_fields,
    )


def _overlapping(
    want: DesiredBlocklist,
    holder: dict[str, ActualBlocklist],
    owner_key: dict[TaniumId, Key],
    taken: set[Key],
    out: DiffResult,
) -> ActualBlocklist | bool | None:
    """An existing entry holding one of `want`'s hashes: ours (update it), somebody else's
    (False: leave it, say why), or None."""
    for value in (want.md5, want.sha1, want.sha256):
        entry = holder.get(value) if value else None
        if entry is None:
            continue
        key = owner_key.get(entry.id)
        if key is not None and key not in taken:
            return entry  # ours, under another key: update it in place
        if key is not None:
            continue  # ours, being updated to another desired file: it drops this hash
        _conflict(want, value, entry, "left as is", out)
        return False
    return None


def _conflict(
    want: DesiredBlocklist, value: str, entry: ActualBlocklist, outcome: str, out: DiffResult
) -> None:
    """Report a desired hash already held by an entry octi-tanium does not own."""
    why = (
        f"hash {value} is already in Reputation's {entry.list} list (entry {entry.id}, not "
        f"created by octi-tanium): {outcome} — remove that entry in Tanium, or exclude the "
        "hash in an Exclusion"
    )
    conflict(out, want.key, _name(want), why)


def _fields(entry: ActualBlocklist) -> dict[str, str]:
    return {
        "md5": entry.md5.lower(),
        "sha1": entry.sha1.lower(),
        "sha256": entry.sha256.lower(),
        "notes": entry.notes,
    }


def _wanted(want: DesiredBlocklist) -> dict[str, str]:
    return {"md5": want.md5, "sha1": want.sha1, "sha256": want.sha256, "notes": want.notes}


def _compare(want: DesiredBlocklist, have: ActualBlocklist, have_key: Key) -> PlanItem:
    have_fields, want_fields = _fields(have), _wanted(want)
    if have_fields == want_fields:
        return noop_item("blocklist", want, have.id)
    marker = parse_marker(have.notes)
    hashes_same = all(have_fields[k] == want_fields[k] for k in ("md5", "sha1", "sha256"))
    if marker is not None and marker.key != want.key:
        reason = Reason.CHANGED  # the same file, now known by more hashes
    elif hashes_same:
        reason = Reason.LABELS
    else:
        reason = change_reason(have.notes, want.digest)
    return PlanItem(
        action="update",
        kind="blocklist",
        key=want.key,
        reason=reason,
        name=_name(want),
        changes=tuple(document_changes(have_fields, want_fields)),
        tanium_id=have.id,
        desired=payload(want),
        origins=origins(want),
        before={**have_fields, "key": have_key},
    )


def _name(want: DesiredBlocklist) -> str:
    """One way to name an entry: strongest hash, then file name (`blocklist_name`)."""
    return blocklist_name(want.md5, want.sha1, want.sha256, want.name)
