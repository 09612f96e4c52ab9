"""The desired state of a warm pass, redoing only what changed since the last one.

`run` builds the desired state every pass in one long-lived process, and between two passes
few objects change (the incremental source even hands back the very same `SourceObject` for
those that did not). `DesiredMemo.build` returns exactly what `build_desired` returns for the
same arguments, but keeps per object what is expensive (the policies that select it, why it
is skipped, its rendering and its contributions) and per key who contributes to it, and
rebuilds only the keys the changed objects touched — with the steps that cross objects (files
sharing a hash, excluded hashes, `gone`, `drift_warn`) redone for those keys only. Keys
nothing touched keep the very `DesiredIntel` / `DesiredBlocklist` of the last result (and so
their rendering), which lets the diff skip them too.

Whatever it cannot follow cheaply is a full build, said in `last`: the first pass, other
policies or terms, the clock going back, quotas in force (a global ranking), two objects with
one id. Pure, like `build_desired`: `now` is a parameter.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import attrgetter, is_not
from typing import TypeVar

from controller.core.desired import (
    DesiredState,
    LabelSets,
    Merge,
    add_file,
    add_intel,
    add_static_file,
    add_static_intel,
    build_desired,
    drop_excluded_files,
    finish_file,
    finish_intel,
    merge_same_files,
)
from controller.core.diagnostics import Diagnostic
from controller.core.exclusions import ExclusionIndex
from controller.core.model import DesiredBlocklist, DesiredIntel, Key, SourceObject, SourceSnapshot
from controller.core.outcome import (
    Outcome,
    SkippedObject,
    evaluate,
    note_excluded,
    ordered_policies,
    static_parts,
)
from controller.core.reasons import Reason
from controller.core.selection import next_change
from controller.policy.located import Located, PolicySet
from controller.policy.models import IntelPolicy
from controller.render.convert import prefetch
from controller.render.marker import installation_id
from controller.render.types import FileCandidate, IntelCandidate


@dataclass(frozen=True, slots=True)
class MemoPass:
    """What the last `build` did, for logs and benchmarks."""

    full: bool
    why: str = ""
    """Why it was a full build ("" for an incremental one)."""
    objects: int = 0
    recomputed: int = 0
    """Objects evaluated again: new, changed, removed, or whose verdict the clock may move."""
    intel_rebuilt: int = 0
    files_rebuilt: int = 0
    """Blocklist files (groups of entries sharing a hash) rebuilt."""

    def text(self) -> str:
        done = (
            f"{self.recomputed:,} of {self.objects:,} objects evaluated, "
            f"{self.intel_rebuilt:,} intel documents and {self.files_rebuilt:,} blocklist files "
            "rebuilt"
        )
        return f"full ({self.why}): {done}" if self.full else f"incremental: {done}"


@dataclass(slots=True)
class _Entry:
    obj: SourceObject
    outcome: Outcome | None
    until: datetime | None
    """From then on its verdict may differ (`selection.next_change`)."""
    intel_keys: tuple[Key, ...]
    """The intel keys it contributes to, in the order it first does (that order is the
    order of `DesiredState.intel`)."""
    file_keys: tuple[Key, ...]


@dataclass(slots=True)
class _File:
    """The files whose candidates share hashes, merged as `merge_same_files` does: at most
    one blocklist entry, and its skips and gone keys. Ordered by `members[0]`."""

    members: tuple[Key, ...]
    key: Key | None
    item: DesiredBlocklist | None
    warn: bool
    conflicts: list[SkippedObject] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    excluded: list[SkippedObject] = field(default_factory=list)
    gone: dict[Key, Reason] = field(default_factory=dict)


@dataclass
class _Touched:
    intel: set[Key] = field(default_factory=set)
    files: set[Key] = field(default_factory=set)
    gone: set[Key] = field(default_factory=set)
    skips: bool = False
    diagnostics: bool = False
    excluded: bool = False
    ids: bool = False


class DesiredMemo:
    """`build_desired` for a sequence of passes. One instance per long-lived process."""

    def __init__(self) -> None:
        self.last = MemoPass(full=True, why="not built yet")
        self._reset()

    def _reset(self) -> None:
        self._policies: PolicySet | None = None
        self._terms: dict[str, str] | None = None
        self._now: datetime | None = None
        self._ordered: list[Located] = []
        self._exclusions = ExclusionIndex()
        self._installation = ""
        self._labels = LabelSets()
        self._entries: dict[str, _Entry] = {}
        self._objects: dict[str, SourceObject] = {}
        """Each entry's object, by id (`_changes` looks them all up at once)."""
        self._ids: list[str] = []
        self._deadlines: list[tuple[datetime, str]] = []
        self._intel_by: dict[Key, list[str]] = {}
        self._files_by: dict[Key, list[str]] = {}
        self._gone_by: dict[Key, list[str]] = {}
        self._skips: dict[str, SkippedObject] = {}
        self._skip_ids: list[str] = []
        self._diagnostics: dict[str, tuple[Diagnostic, ...]] = {}
        self._diagnostic_ids: list[str] = []
        self._excluded: set[str] = set()
        self._excluded_hashes: dict[str, str] = {}
        self._static_intel: dict[Key, list[tuple[IntelCandidate, Located]]] = {}
        self._static_order: dict[Key, int] = {}
        self._static_files: dict[Key, list[tuple[FileCandidate, Located]]] = {}
        self._static_skips: list[SkippedObject] = []
        self._static_diagnostics: list[Diagnostic] = []
        self._hashes_of: dict[Key, tuple[str, ...]] = {}
        self._by_hash: dict[str, set[Key]] = {}
        self._file_of: dict[Key, Key] = {}
        self._files: dict[Key, _File] = {}
        self._file_ids: list[Key] = []
        self._flagged: set[Key] = set()
        self._intel_warn: set[Key] = set()
        self._file_warn: set[Key] = set()
        self._intel: dict[Key, DesiredIntel] = {}
        self._order: list[Key] = []
        """The keys of `_intel` in their order (kept to reorder only the touched ones)."""
        self._blocklist: dict[Key, DesiredBlocklist] = {}
        self._gone: dict[Key, Reason] = {}
        self._drift_warn: set[Key] = set()

    def build(
        self,
        policies: PolicySet,
        snapshot: SourceSnapshot,
        *,
        now: datetime,
        terms: Mapping[str, str] | None = None,
    ) -> DesiredState:
        """What `build_desired(policies, snapshot, now=now, terms=terms)` returns."""
        try:
            return self._build(policies, snapshot, now, terms)
        except BaseException:  # half updated: the next build starts from scratch
            self._reset()
            self.last = MemoPass(full=True, why="the last build failed")
            raise

    def _build(
        self,
        policies: PolicySet,
        snapshot: SourceSnapshot,
        now: datetime,
        terms: Mapping[str, str] | None,
    ) -> DesiredState:
        objects = snapshot.objects
        quotas = policies.settings.quotas
        if quotas.max_intel is not None or quotas.max_blocklist is not None:
            return self._delegate(policies, snapshot, now, terms, "quotas rank all items")
        ids = list(map(_STANDARD_ID, objects))
        unique = set(ids)
        if len(unique) != len(ids):
            return self._delegate(policies, snapshot, now, terms, "two objects share an id")
        wanted = dict(terms) if terms is not None else None
        why = ""
        if self._policies is None:
            why = "first build" if self.last.why != "the last build failed" else self.last.why
        elif policies is not self._policies and policies != self._policies:
            why = "policies changed"
        elif wanted != self._terms:
            why = "terms changed"
        elif self._now is not None and now < self._now:
            why = "the clock went back"
        if why:
            self._start(policies, wanted)
            changed: dict[str, SourceObject | None] = dict(zip(ids, objects, strict=True))
        else:
            changed = self._changes(objects, ids, unique)
            self._expired(changed, now)
        self._now = now
        touched = _Touched()
        if why:
            touched.intel.update(self._static_intel)
            touched.files.update(self._static_files)
        recomputed = len(changed)
        positions = self._update(changed, now, touched)
        files_rebuilt = self._rebuild(touched, positions, wanted, force=bool(why))
        self.last = MemoPass(
            full=bool(why),
            why=why,
            objects=len(objects),
            recomputed=recomputed,
            intel_rebuilt=len(touched.intel),
            files_rebuilt=files_rebuilt,
        )
        return self._result()

    # ------------------------------------------------------------------ what changed

    def _delegate(
        self,
        policies: PolicySet,
        snapshot: SourceSnapshot,
        now: datetime,
        terms: Mapping[str, str] | None,
        why: str,
    ) -> DesiredState:
        """What the memo cannot follow: `build_desired` itself, and a cold memo after it."""
        self._reset()
        state = build_desired(policies, snapshot, now=now, terms=terms)
        n = len(snapshot.objects)
        self.last = MemoPass(
            full=True,
            why=why,
            objects=n,
            recomputed=n,
            intel_rebuilt=len(state.intel),
            files_rebuilt=len(state.blocklist),
        )
        return state

    def _start(self, policies: PolicySet, terms: dict[str, str] | None) -> None:
        self._reset()
        self._policies, self._terms = policies, terms
        self._ordered = ordered_policies(policies)
        self._exclusions = ExclusionIndex.build(policies.exclusions)
        self._installation = installation_id(policies.settings.source)
        static = static_parts(policies.static_intel)
        self._static_diagnostics, self._static_skips = static.diagnostics, static.skipped
        for candidate, located in static.intel:
            self._static_intel.setdefault(candidate.key, []).append((candidate, located))
            self._static_order.setdefault(candidate.key, len(self._static_order))
        for file, located in static.files:
            self._static_files.setdefault(file.key, []).append((file, located))

    def _changes(
        self, objects: Sequence[SourceObject], ids: list[str], unique: set[str]
    ) -> dict[str, SourceObject | None]:
        """New and changed objects, and None for those removed. Unchanged: the same
        instance (found without a Python loop over all of them), or an equal one (kept for
        the next pass's identity check)."""
        known = self._objects
        changed: dict[str, SourceObject | None] = {}
        added = 0
        for obj in compress(objects, map(is_not, objects, map(known.get, ids))):
            sid = obj.standard_id
            before = known.get(sid)
            if before is None:
                changed[sid] = obj
                added += 1
            elif before == obj:
                known[sid] = self._entries[sid].obj = obj
            else:
                changed[sid] = obj
        if len(known) + added != len(unique):
            changed.update(dict.fromkeys(known.keys() - unique))
        return changed

    def _expired(self, changed: dict[str, SourceObject | None], now: datetime) -> None:
        """Objects whose verdict the clock may have changed since the last build."""
        deadlines, entries = self._deadlines, self._entries
        while deadlines and deadlines[0][0] <= now:
            until, sid = heapq.heappop(deadlines)
            entry = entries.get(sid)
            if entry is not None and entry.until == until and sid not in changed:
                changed[sid] = entry.obj
        if len(deadlines) > 2 * len(entries) + 64:  # stale deadlines of changed objects
            self._deadlines = [(e.until, s) for s, e in entries.items() if e.until is not None]
            heapq.heapify(self._deadlines)

    def _until(self, obj: SourceObject, now: datetime) -> datetime | None:
        instants = []
        for located in self._ordered:
            document = located.document
            assert isinstance(document, IntelPolicy)
            instant = next_change(document.spec.select, obj, now=now)
            if instant is not None:
                instants.append(instant)
        return min(instants, default=None)

    def _update(
        self, changed: Mapping[str, SourceObject | None], now: datetime, touched: _Touched
    ) -> dict[Key, tuple[int, str, int] | None]:
        """Evaluate the changed objects and swap their entries and indexes; returns where
        the intel keys they touch stood before."""
        prefetch(obj for obj in changed.values() if obj is not None)
        fresh: dict[str, _Entry | None] = {}
        for sid, obj in changed.items():
            if obj is None:
                fresh[sid] = None
                continue
            outcome = evaluate(obj, self._ordered, self._exclusions, now=now)
            until = self._until(obj, now)
            old = self._entries.get(sid)
            if old is not None and old.obj is obj and old.outcome == outcome:
                old.until = until  # the clock moved on, the verdict did not
                self._deadline(until, sid)
                continue
            fresh[sid] = _entry(obj, outcome, until)
        for sid, new in fresh.items():
            old = self._entries.get(sid)
            touched.intel.update(old.intel_keys if old is not None else ())
            touched.intel.update(new.intel_keys if new is not None else ())
        positions = {key: self._position(key) for key in touched.intel}
        gone: set[str] = set()
        for sid, new in fresh.items():
            old = self._entries.pop(sid, None)
            if old is not None:
                self._unindex(sid, old, touched)
            if new is not None:
                self._entries[sid] = new
                self._index(sid, new, touched)
                self._deadline(new.until, sid)
            if new is None:
                gone.add(sid)
            elif old is None:
                self._ids.append(sid)
                touched.ids = True
        if gone or touched.ids:  # mostly sorted already: a merge of runs
            self._ids = sorted(sid for sid in self._ids if sid not in gone)
            touched.ids = True
        return positions

    def _deadline(self, until: datetime | None, sid: str) -> None:
        if until is not None:
            heapq.heappush(self._deadlines, (until, sid))

    def _index(self, sid: str, entry: _Entry, touched: _Touched) -> None:
        self._objects[sid] = entry.obj
        for key in entry.intel_keys:
            insort(self._intel_by.setdefault(key, []), sid)
        for key in entry.file_keys:
            insort(self._files_by.setdefault(key, []), sid)
        touched.files.update(entry.file_keys)
        outcome = entry.outcome
        if outcome is None:
            return
        if outcome.diagnostics:
            self._diagnostics[sid] = outcome.diagnostics
            touched.diagnostics = True
        if outcome.skipped is not None:
            self._skips[sid] = outcome.skipped
            touched.skips = True
            for key in outcome.gone:
                insort(self._gone_by.setdefault(key, []), sid)
            touched.gone.update(outcome.gone)
        if outcome.excluded != ((), ()):
            self._excluded.add(sid)
            touched.excluded = True

    def _unindex(self, sid: str, entry: _Entry, touched: _Touched) -> None:
        del self._objects[sid]
        _drop(self._intel_by, entry.intel_keys, sid)
        _drop(self._files_by, entry.file_keys, sid)
        touched.files.update(entry.file_keys)
        outcome = entry.outcome
        if outcome is None:
            return
        if self._diagnostics.pop(sid, None) is not None:
            touched.diagnostics = True
        if self._skips.pop(sid, None) is not None:
            touched.skips = True
            _drop(self._gone_by, outcome.gone, sid)
            touched.gone.update(outcome.gone)
        if sid in self._excluded:
            self._excluded.discard(sid)
            touched.excluded = True

    def _position(self, key: Key) -> tuple[int, str, int] | None:
        """Where `build_desired` puts an intel key: after the keys of objects with smaller
        ids, by its place among its first contributor's keys; static intel last."""
        contributors = self._intel_by.get(key)
        if contributors:
            first = contributors[0]
            return (0, first, self._entries[first].intel_keys.index(key))
        if key in self._static_order:
            return (1, "", self._static_order[key])
        return None

    # ------------------------------------------------------------------ rebuilding keys

    def _rebuild(
        self,
        touched: _Touched,
        positions: Mapping[Key, tuple[int, str, int] | None],
        terms: Mapping[str, str] | None,
        force: bool,
    ) -> int:
        """The touched keys again; returns how many blocklist files were rebuilt."""
        excluded = self._excluded_again() if touched.excluded else set()
        pre = self._hashes_again(touched.files)
        for value in excluded:  # the files excluded, or no longer, by an object's hashes
            touched.files.update(self._by_hash.get(value, ()))
        rebuilt = self._files_again(touched, pre, force)
        reorder = force
        for key in touched.intel:
            merge = self._intel_merge(key)
            self._intel_warn.discard(key)
            if merge is None:
                self._intel.pop(key, None)  # the others keep their order
                continue
            self._intel[key] = finish_intel(merge, terms, self._labels)
            if not merge.corrects_drift:
                self._intel_warn.add(key)
            reorder = reorder or positions.get(key) != self._position(key)
        if force:
            self._order = self._in_order()
        elif reorder:
            self._order = self._reordered(touched.intel)
        if reorder:
            intel = self._intel
            self._intel = dict(zip(self._order, map(intel.__getitem__, self._order), strict=True))
        for key in touched.intel | touched.files | touched.gone:
            self._gone_again(key)
            self._drift_warn.discard(key)
            if key in self._intel_warn or key in self._file_warn:
                self._drift_warn.add(key)
        if touched.skips:
            self._skip_ids = sorted(self._skips)
        if touched.diagnostics:
            self._diagnostic_ids = sorted(self._diagnostics)
        return rebuilt

    def _excluded_again(self) -> set[str]:
        """Excluded hashes, from the excluded objects in id order (later ones win for their
        files' hashes, earlier ones for their own, as in `build_desired`); returns the
        hashes whose exclusion changed."""
        hashes: dict[str, str] = {}
        for sid in sorted(self._excluded):
            outcome = self._entries[sid].outcome
            assert outcome is not None
            note_excluded(hashes, outcome)
        old, self._excluded_hashes = self._excluded_hashes, hashes
        return {h for h in old.keys() | hashes.keys() if old.get(h) != hashes.get(h)}

    def _hashes_again(self, keys: Iterable[Key]) -> dict[Key, Merge]:
        """The merged candidates of the touched file keys, and the hash index updated."""
        pre: dict[Key, Merge] = {}
        for key in keys:
            for value in self._hashes_of.pop(key, ()):
                holders = self._by_hash[value]
                holders.discard(key)
                if not holders:
                    del self._by_hash[value]
            merge = self._file_merge(key)
            if merge is None:
                continue
            pre[key] = merge
            assert isinstance(merge.candidate, FileCandidate)
            values = tuple(merge.candidate.hashes.values())
            self._hashes_of[key] = values
            for value in values:
                self._by_hash.setdefault(value, set()).add(key)
        return pre

    def _files_again(self, touched: _Touched, pre: dict[Key, Merge], force: bool) -> int:
        """Every group of files a touched key is or was in, merged again."""
        region: set[Key] = set()
        removed: dict[Key, _File] = {}
        work = list(touched.files)
        while work:
            key = work.pop()
            if key in region:
                continue
            region.add(key)
            fid = self._file_of.pop(key, None)
            if fid is not None and fid not in removed:
                removed[fid] = self._files.pop(fid)
                work.extend(removed[fid].members)
            for value in self._hashes_of.get(key, ()):
                work.extend(self._by_hash[value])
        added: dict[Key, _File] = {}
        for start in sorted(region):
            if start in self._file_of or start not in self._hashes_of:
                continue
            members = self._group(start)
            merges = {k: pre[k] if k in pre else self._file_merge_of(k) for k in members}
            group = self._merge_group(merges)
            added[members[0]] = group
            for member in members:
                self._file_of[member] = members[0]
        for fid, group in removed.items():
            self._flagged.discard(fid)
            if group.key is not None:
                self._file_warn.discard(group.key)
            touched.files.update(group.members)
        for fid, group in added.items():
            self._files[fid] = group
            if group.conflicts or group.warnings or group.excluded:
                self._flagged.add(fid)
            if group.warn and group.key is not None:
                self._file_warn.add(group.key)
            touched.files.update(group.members)
        if not force and _keys(removed) == _keys(added):  # the same entries in the same order
            for group in added.values():
                if group.key is not None and group.item is not None:
                    self._blocklist[group.key] = group.item
            return len(added)
        ids = [fid for fid in self._file_ids if fid not in removed]
        ids.extend(added)
        self._file_ids = sorted(ids)
        self._blocklist = {
            group.key: group.item
            for fid in self._file_ids
            if (group := self._files[fid]).key is not None and group.item is not None
        }
        return len(added)

    def _group(self, start: Key) -> tuple[Key, ...]:
        """The keys sharing a hash with `start`, transitively, sorted."""
        seen = {start}
        work = [start]
        while work:
            for value in self._hashes_of[work.pop()]:
                for other in self._by_hash[value]:
                    if other not in seen:
                        seen.add(other)
                        work.append(other)
        return tuple(sorted(seen))

    def _merge_group(self, merges: dict[Key, Merge]) -> _File:
        scratch = DesiredState()
        merged = merges if len(merges) == 1 else merge_same_files(merges, scratch)  # one: itself
        kept = drop_excluded_files(merged, self._exclusions, self._excluded_hashes, scratch)
        assert len(kept) <= 1  # one entry per group (its first member's when hashes conflict)
        group = _File(
            members=tuple(merges),
            key=None,
            item=None,
            warn=False,
            conflicts=[s for s in scratch.skipped if s.reason == Reason.CONFLICT],
            warnings=scratch.diagnostics,
            excluded=[s for s in scratch.skipped if s.reason == Reason.EXCLUDED],
            gone=scratch.gone,
        )
        for key, merge in kept.items():
            group.key = key
            group.item = finish_file(merge, self._installation, self._labels)
            group.warn = not merge.corrects_drift
        return group

    def _file_merge_of(self, key: Key) -> Merge:
        merge = self._file_merge(key)
        assert merge is not None
        return merge

    def _file_merge(self, key: Key) -> Merge | None:
        outcomes = self._outcomes(self._files_by.get(key, ()))
        static = self._static_files.get(key, ())
        return _merged(key, outcomes, _files_of, add_file, static, add_static_file)

    def _intel_merge(self, key: Key) -> Merge | None:
        outcomes = self._outcomes(self._intel_by.get(key, ()))
        static = self._static_intel.get(key, ())
        return _merged(key, outcomes, _intel_of, add_intel, static, add_static_intel)

    def _outcomes(self, sids: Iterable[str]) -> Iterator[Outcome]:
        for sid in sids:
            outcome = self._entries[sid].outcome
            assert outcome is not None  # a contributor
            yield outcome

    def _in_order(self) -> list[Key]:
        """The intel keys in `build_desired`'s order (see `_position`), from scratch."""
        ordered: dict[Key, None] = {}
        for sid in self._ids:
            ordered.update(dict.fromkeys(self._entries[sid].intel_keys))
        ordered.update(dict.fromkeys(self._static_order))
        return [key for key in ordered if key in self._intel]

    def _reordered(self, touched: AbstractSet[Key]) -> list[Key]:
        """The last order with the touched keys taken out and put back where they now
        belong: the others have not moved relative to each other, so a bisection finds the
        place of each. (Keys removed since the last reordering are dropped here: a removal
        leaves the others' order as it was, so it does not reorder.)"""
        intel = self._intel
        kept = [key for key in self._order if key not in touched and key in intel]
        placed = sorted((self._place(key), key) for key in touched if key in self._intel)
        order: list[Key] = []
        start = 0
        for place, key in placed:
            end = bisect_left(kept, place, lo=start, key=self._place)
            order.extend(kept[start:end])
            order.append(key)
            start = end
        order.extend(kept[start:])
        return order

    def _place(self, key: Key) -> tuple[int, str, int]:
        place = self._position(key)
        assert place is not None
        return place

    def _gone_again(self, key: Key) -> None:
        """Why a key is not desired: the first skipped object that would have made it, else
        its file merged into another or excluded — unless something else desires it."""
        if key in self._intel or key in self._blocklist:
            self._gone.pop(key, None)
            return
        sids = self._gone_by.get(key)
        reason: Reason | None = None
        if sids:
            reason = self._skips[sids[0]].reason
        else:
            fid = self._file_of.get(key)
            if fid is not None:
                reason = self._files[fid].gone.get(key)
        if reason is None:
            self._gone.pop(key, None)
        else:
            self._gone[key] = reason

    def _result(self) -> DesiredState:
        """A state of its own: the caller may change it, the memo goes on from its copy."""
        flagged = [self._files[fid] for fid in sorted(self._flagged)]
        skipped = [self._skips[sid] for sid in self._skip_ids]
        skipped.extend(self._static_skips)
        skipped.extend(s for group in flagged for s in group.conflicts)
        skipped.extend(s for group in flagged for s in group.excluded)
        diagnostics = [d for sid in self._diagnostic_ids for d in self._diagnostics[sid]]
        diagnostics.extend(self._static_diagnostics)
        diagnostics.extend(d for group in flagged for d in group.warnings)
        return DesiredState(
            intel=dict(self._intel),
            blocklist=dict(self._blocklist),
            skipped=skipped,
            diagnostics=diagnostics,
            excluded_hashes=dict(self._excluded_hashes),
            gone=dict(self._gone),
            drift_warn=set(self._drift_warn),
        )


_STANDARD_ID = attrgetter("standard_id")
C = TypeVar("C", IntelCandidate, FileCandidate)


def _merged(
    key: Key,
    outcomes: Iterable[Outcome],
    parts: Callable[[Outcome], Iterable[tuple[C, Located]]],
    add: Callable[[dict[Key, Merge], C, SourceObject, Located], None],
    static: Iterable[tuple[C, Located]],
    add_static: Callable[[dict[Key, Merge], C, Located], None],
) -> Merge | None:
    """Every contribution to one key, in `build_desired`'s order: the objects' by id (the
    first one's candidate is the item's), then the static intel's."""
    merges: dict[Key, Merge] = {}
    for outcome in outcomes:
        for candidate, located in parts(outcome):
            if candidate.key == key:
                add(merges, candidate, outcome.obj, located)
    for candidate, located in static:
        add_static(merges, candidate, located)
    return merges.get(key)


def _intel_of(outcome: Outcome) -> Iterable[tuple[IntelCandidate, Located]]:
    return outcome.intel


def _files_of(outcome: Outcome) -> Iterable[tuple[FileCandidate, Located]]:
    return outcome.files


def _entry(obj: SourceObject, outcome: Outcome | None, until: datetime | None) -> _Entry:
    if outcome is None:
        return _Entry(obj, None, until, (), ())
    intel = tuple(dict.fromkeys(candidate.key for candidate, _ in outcome.intel))
    files = tuple(dict.fromkeys(file.key for file, _ in outcome.files))
    return _Entry(obj, outcome, until, intel, files)


def _keys(groups: Mapping[Key, _File]) -> dict[Key, Key | None]:
    return {fid: group.key for fid, group in groups.items()}


def _drop(index: dict[Key, list[str]], keys: Iterable[Key], sid: str) -> None:
    for key in keys:
        holders = index[key]
        holders.remove(sid)
        if not holders:
            del index[key]
