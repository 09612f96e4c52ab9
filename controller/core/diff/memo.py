"""An incremental `make_plan` for the passes of one long-lived process (`octi-tanium run`).
Pure.

`make_plan` joins every desired key with every owned Tanium object: ~1 s at 100,000 keys
even when 1 % moved. On a warm pass the desired state keeps the very same item instance for
every key whose item did not change (the desired memo), and Tanium's objects compare equal
when nothing moved, so `PlanMemo.make` runs the same comparators (`diff_intel`,
`diff_blocklist`) over only the keys whose inputs moved, keeps the rest of the last pass's
per-key results, and assembles the plan with `make_plan`'s own `assemble` (guards, side
effects, migrations, summary: global, recomputed every pass). Its plan is `make_plan`'s, and
`learned` is filled as `make_plan` fills it (`tests/unit/test_plan_memo.py` checks both after
every step of random change sequences).

What one key's result depends on, hence what joins it again:
- intel: its desired item (`is` the last one), the documents owned under the key (equal to
  the last ones), the journal entry of the one compared, whether its policies say
  `drift: warn`. Global: the Tanium labels and the unowned documents (their intrinsic ids make
  conflicts): either moving joins the intel half whole.
- blocklist: its desired entry, the entries owned under the key, and `drift: warn`, as long as
  the key is *clean*: one entry at most, and no other entry holds one of its hashes. Otherwise
  keys depend on one another (which entry holds a hash first, which key took an entry over)
  and the half is joined whole until every key is clean again.
- keys owned but no longer desired are joined on every pass (their delete's reason comes from
  `desired.gone`); they are few.
- the first pass, a change of Settings, or two Tanium objects with one id join everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import attrgetter, is_not
from typing import Generic, Literal, TypeVar, Unpack

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.common import DiffResult
from controller.core.diff.hashes import Hashes
from controller.core.diff.intel import diff_intel
from controller.core.diff.inventory import Inventory, Moves
from controller.core.diff.labels import missing_labels
from controller.core.diff.plan import (
    Joined,
    PlanOptions,
    assemble,
    drift_split,
    make_plan,
    settled_at,
)
from controller.core.model import (
    ActualBlocklist,
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    Key,
    TaniumId,
)
from controller.core.plan import (
    CopyKey,
    Plan,
    PlanItem,
    Skipped,
    entry_line,
    fingerprint_of,
    intel_line,
)
from controller.core.reasons import Reason
from controller.policy.models import SettingsSpec
from controller.render.marker import installation_id, intrinsic_ids_for, owned_blocklist_key
from controller.render.marker import owned_intel_key as _intel_key

Journal = Mapping[TaniumId, tuple[str, str]]
K = TypeVar("K")
V = TypeVar("V")
_KEY = attrgetter("key")
_TANIUM_ID = attrgetter("tanium_id")


@dataclass(frozen=True, slots=True)
class MemoStats:
    """What the last `PlanMemo.make` did, for the pass log and the benchmarks."""

    mode: Literal["full", "incremental"]
    reason: str = ""
    """Why everything was joined ("" when incremental)."""
    keys: int = 0
    """Desired keys this pass."""
    intel_recomputed: int = 0
    """Intel keys joined again (desired or owned)."""
    blocklist_recomputed: int = 0
    intel_whole: str = ""
    """Why the intel half was joined whole ("" when only the keys that moved were)."""
    blocklist_whole: str = ""

    @property
    def recomputed(self) -> int:
        return self.intel_recomputed + self.blocklist_recomputed


class _Results:
    """One half's per-key results, as the last join of each key gave them."""

    def __init__(self) -> None:
        self.valid = False
        """Whether every key has its results here (not before the first join, nor after a
        join whose results were not per key)."""
        self.kept: dict[Key, PlanItem | None] = {}
        """Every desired key: its item (None: a conflict, or `warned`)."""
        self.warned: dict[Key, tuple[PlanItem, Diagnostic]] = {}
        self.replaced: dict[Key, PlanItem] = {}
        self.conflicts: dict[Key, tuple[Skipped, Diagnostic]] = {}
        self.schema: dict[Key, Diagnostic] = {}
        self.orphans: dict[Key, PlanItem] = {}
        self.duplicates: dict[Key, list[PlanItem]] = {}
        self.winner: dict[Key, TaniumId] = {}
        """The Tanium object a desired key was compared with."""
        self.compared: dict[TaniumId, Key] = {}
        """The other way round: whose key's join read the journal entry of an object."""
        self.learned: dict[Key, tuple[TaniumId, tuple[str, str]]] = {}
        self._all = (
            self.kept,
            self.warned,
            self.replaced,
            self.conflicts,
            self.schema,
            self.orphans,
            self.duplicates,
            self.winner,
            self.learned,
        )

    def record(
        self,
        out: DiffResult,
        keys: set[Key],
        wanted: Mapping[Key, object],
        drift_warn: set[Key],
        learned: Mapping[TaniumId, tuple[str, str]],
        *,
        whole: bool,
    ) -> None:
        """Replace the results of `keys` with those of `out`, the join of exactly them
        (`whole`: of every key)."""
        if whole:
            self.compared.clear()
        else:
            for tanium_id in filter(None, map(self.winner.get, keys)):
                del self.compared[tanium_id]
        for results in self._all:
            if whole:
                results.clear()
            else:
                for key in keys:
                    results.pop(key, None)
        self.valid = True
        if whole:
            self.kept.update(zip(wanted, repeat(None)))
        else:
            self.kept.update((k, None) for k in keys if k in wanted)
        items = out.items
        compared = compress(items, map(is_not, map(_TANIUM_ID, items), repeat(None)))
        winner: dict[Key, TaniumId] = {Key(i.key): TaniumId(i.tanium_id or 0) for i in compared}
        kept, warned = drift_split(items, drift_warn)
        self.kept.update(zip(map(_KEY, kept), kept, strict=True))
        self.warned.update((Key(pair[0].key), pair) for pair in warned)
        conflicts = len(out.skipped)
        for skipped, note in zip(out.skipped, out.diagnostics[:conflicts], strict=True):
            self.conflicts[Key(skipped.key)] = (skipped, note)
        for note in out.diagnostics[conflicts:]:  # after the conflicts: `schema_invalid`'s
            self.schema[Key(note.key or "")] = note
        for delete in out.deletes:
            copy = delete.key
            if not isinstance(copy, CopyKey):
                self.orphans[Key(copy)] = delete
            elif delete.reason == Reason.DUPLICATE:
                self.duplicates.setdefault(copy.key, []).append(delete)
            else:  # replaced: a document of another type, the one compared
                self.replaced[copy.key] = delete
                winner[copy.key] = copy.tanium_id
        self.winner.update(winner)
        self.compared.update(zip(winner.values(), winner, strict=True))
        if learned:
            of = {tanium_id: key for key, tanium_id in winner.items()}
            for tanium_id, entry in learned.items():
                self.learned[of[tanium_id]] = (tanium_id, entry)

    def journal_moved(self, entries: Iterable[TaniumId]) -> set[Key]:
        """The keys whose join read one of these journal entries (they moved since)."""
        compared = self.compared
        return {compared[i] for i in entries if i in compared}

    def half(
        self,
        wanted: Mapping[Key, object],
        inventory: Inventory[ActualIntel] | Inventory[ActualBlocklist],
    ) -> _Half:
        """The half as its whole join gives it: deletes, skipped and diagnostics in the
        comparator's order, and the items in desired order. The counts are the caller's."""
        out = DiffResult()
        kept = list(filter(None, map(self.kept.__getitem__, wanted)))
        warned = list(filter(None, map(self.warned.get, wanted))) if self.warned else []
        if self.replaced:
            out.deletes.extend(filter(None, map(self.replaced.get, wanted)))
        out.deletes.extend(self.orphans[k] for k in inventory.first_seen(set(self.orphans)))
        if self.duplicates:
            copies = chain.from_iterable(self.duplicates.values())
            out.deletes.extend(sorted(copies, key=lambda d: d.tanium_id or 0))
        if self.conflicts:
            found = list(filter(None, map(self.conflicts.get, wanted)))
            out.skipped.extend(skipped for skipped, _ in found)
            out.diagnostics.extend(note for _, note in found)
        out.diagnostics.extend(self.schema[k] for k in sorted(self.schema))
        return out, kept, warned


class PlanMemo:
    """`make_plan` across the passes of one process: `make` takes its arguments and returns
    its plan, joining again only the keys whose inputs moved since the last call. `stats`
    says what the last call did."""

    def __init__(self) -> None:
        self.stats = MemoStats(mode="full", reason="no pass yet")
        self._settings: SettingsSpec | None = None
        self._reset()

    def _reset(self) -> None:
        installation = installation_id(self._settings.source) if self._settings else None
        self._intel = Inventory[ActualIntel](_intel_key, intel_line)
        self._entries = Inventory[ActualBlocklist](
            lambda e: owned_blocklist_key(e, installation), entry_line
        )
        self._intel_results = _Results()
        self._entry_results = _Results()
        self._wants = _Last[Key, DesiredIntel]()
        self._files = _Last[Key, DesiredBlocklist]()
        self._journal = _Last[TaniumId, tuple[str, str]]()
        self._label_sets: Counter[tuple[str, ...]] = Counter()
        self._drift_warn: set[Key] = set()
        self._labels: tuple[ActualLabel, ...] | None = None
        self._squatted: dict[str, ActualIntel] | None = None
        self._intel_orphans: set[Key] = set()
        self._entry_orphans: set[Key] = set()
        self._hashes = Hashes(self._entries)
        self._list_error: str | None = None

    def make(
        self, desired: DesiredState, actual: ActualState, **options: Unpack[PlanOptions]
    ) -> Plan:
        """`make_plan(desired, actual, **options)`: the same plan and the same `learned`."""
        try:
            return self._make(desired, actual, options)
        except BaseException:
            self._settings = None  # what is kept may be half updated: the next pass starts over
            raise

    def _make(self, desired: DesiredState, actual: ActualState, options: PlanOptions) -> Plan:
        settings, now = options["settings"], options.get("now")
        full = "first pass" if self._settings is None else ""
        if self._settings is not None and settings != self._settings:
            full = "Settings changed"
        if full:
            self._settings = settings
            self._reset()
        intel_moves = self._intel.take(actual.intel)
        entry_moves = self._entries.take(actual.blocklist)
        if intel_moves is None or entry_moves is None:
            self._settings = None  # the next pass starts over
            self.stats = MemoStats(
                mode="full", reason="two Tanium objects share an id", keys=desired.size
            )
            return make_plan(desired, actual, **options)
        journal = options.get("stored") or {}
        warn_moved = desired.drift_warn ^ self._drift_warn
        self._drift_warn = set(desired.drift_warn)
        intel, intel_whole, intel_n = self._join_intel(
            desired, actual, intel_moves, journal, warn_moved, full
        )
        entries, entry_whole, entry_n = self._join_blocklist(
            desired, actual, entry_moves, warn_moved, full
        )
        settled = settled_at(settings, now)
        out, kept, warned = intel
        if actual.deploy_known:
            copies = chain.from_iterable(self._intel.copies.values())
            owned = chain(self._intel.held.values(), copies)
            out.undeployed = actual.undeployed(list(owned), settled=settled)
        learned = options.get("learned")
        if learned is not None:
            for tanium_id, entry in self._intel_results.learned.values():
                learned[tanium_id] = entry
        joined = Joined(
            out,
            entries[0],
            [*kept, *entries[1]],
            [*warned, *entries[2]],
            missing_labels(self._label_sets.keys(), actual),
        )
        self.stats = MemoStats(
            mode="full" if intel_whole and entry_whole else "incremental",
            reason=full or (intel_whole if intel_whole and entry_whole else ""),
            keys=desired.size,
            intel_recomputed=intel_n,
            blocklist_recomputed=entry_n,
            intel_whole=intel_whole,
            blocklist_whole=entry_whole,
        )
        lines = self._intel.lines, self._entries.lines
        return assemble(
            joined,
            desired,
            actual,
            settings=settings,
            complete=options.get("complete", True),
            incomplete_reasons=options.get("incomplete_reasons", ()),
            inputs=options.get("inputs"),
            now=now,
            fingerprint=fingerprint_of(
                actual,
                map(lines[0].__getitem__, self._intel.sorted_ids),
                map(lines[1].__getitem__, self._entries.sorted_ids),
            ),
        )

    # ------------------------------------------------------------------ intel

    def _join_intel(
        self,
        desired: DesiredState,
        actual: ActualState,
        moves: Moves[ActualIntel],
        journal: Journal,
        warn_moved: set[Key],
        full: str,
    ) -> tuple[_Half, str, int]:
        inventory, results = self._intel, self._intel_results
        moved, removed, former = self._wants.take(desired.intel)
        for want in former.values():
            self._label_sets[want.labels] -= 1
        for key in moved:
            self._label_sets[desired.intel[key].labels] += 1
        self._label_sets += Counter()  # drops the sets no item has any more
        if moves.unowned or self._squatted is None:
            squatted = {d.intrinsic_id: d for d in inventory.unowned.values() if d.intrinsic_id}
            some = sum(1 for d in inventory.unowned.values() if d.intrinsic_id)
            self._squatted = squatted if len(squatted) == some else None
        whole = full
        if not whole and actual.labels != self._labels:
            whole = "Tanium labels changed"
        if not whole and moves.unowned:
            whole = "unowned documents moved"
        if not whole and self._squatted is None:
            whole = "unowned documents share an intrinsic id"
        if not whole and not results.valid:
            whole = "no per-key results yet"
        self._labels = actual.labels
        entries, gone, _ = self._journal.take(journal)
        learned: dict[TaniumId, tuple[str, str]] = {}
        if whole:
            keys: set[Key] = {*desired.intel, *inventory.held}
            out = diff_intel(desired, actual, None, journal, learned)
        else:
            keys = {*moved, *removed, *moves.keys, *self._intel_orphans}
            keys.update(k for k in warn_moved if k in desired.intel)
            keys.update(results.journal_moved(chain(entries, gone)))
            out = self._sub_intel(desired, actual, keys, journal, learned)
        w = bool(whole)
        results.record(out, keys, desired.intel, self._drift_warn, learned, whole=w)
        _follow_orphans(self._intel_orphans, keys, inventory, desired.intel, whole=w)
        half = results.half(desired.intel, inventory)
        half[0].owned = inventory.owned
        half[0].owned_from_source = len(inventory.held) - inventory.static
        half[0].unowned = len(inventory.unowned)
        return half, whole, len(keys)

    def _sub_intel(
        self,
        desired: DesiredState,
        actual: ActualState,
        keys: set[Key],
        journal: Journal,
        learned: dict[TaniumId, tuple[str, str]],
    ) -> DiffResult:
        """`diff_intel` over `keys` alone: their desired items, their documents, and the
        unowned documents holding one of their intrinsic ids (the conflicts)."""
        squatted = self._squatted or {}
        docs = [doc for key in keys for doc in self._intel.holding(key)]
        if squatted:
            found = {i for k in keys for i in intrinsic_ids_for(k) if i in squatted}
            docs.extend(squatted[i] for i in found)
        part = DesiredState(
            intel={k: desired.intel[k] for k in keys if k in desired.intel}, gone=desired.gone
        )
        inventory = actual.model_copy(
            update={"intel": tuple(docs), "blocklist": (), "adoptable": (), "deploy_known": False}
        )
        return diff_intel(part, inventory, None, journal, learned)

    # ------------------------------------------------------------------ blocklist

    def _join_blocklist(
        self,
        desired: DesiredState,
        actual: ActualState,
        moves: Moves[ActualBlocklist],
        warn_moved: set[Key],
        full: str,
    ) -> tuple[_Half, str, int]:
        inventory, results = self._entries, self._entry_results
        moved, removed, former = self._files.take(desired.blocklist)
        unclean = self._hashes.follow(desired.blocklist, moves, moved, removed, former)
        settings = self._settings
        assert settings is not None
        whole = full
        if not whole and (actual.blocklist_error is not None or self._list_error is not None):
            whole = "the Reputation list could not be read"
        self._list_error = actual.blocklist_error
        if not whole and unclean:
            whole = f"{unclean} desired file(s) in two entries, or a hash of theirs in another"
        if not whole and not results.valid:
            whole = "no per-key results yet"
        installation, adopt = installation_id(settings.source), settings.adopt.blocklist
        if whole:
            keys: set[Key] = {*desired.blocklist, *inventory.held}
            out = diff_blocklist(desired, actual, installation, adopt)
            if unclean or actual.blocklist_error is not None:
                # keys depend on one another: no per-key results to keep (until clean)
                self._entry_results = _Results()
                kept, warned = drift_split(out.items, self._drift_warn)
                return (out, kept, warned), whole, len(keys)
        else:
            keys = {*moved, *removed, *moves.keys, *self._entry_orphans}
            keys.update(k for k in warn_moved if k in desired.blocklist)
            part = DesiredState(
                blocklist={k: desired.blocklist[k] for k in keys if k in desired.blocklist},
                gone=desired.gone,
            )
            entries = tuple(e for k in keys for e in inventory.holding(k))
            inventory_part = actual.model_copy(update={"intel": (), "blocklist": entries})
            out = diff_blocklist(part, inventory_part, installation, adopt)
        results.record(out, keys, desired.blocklist, self._drift_warn, {}, whole=bool(whole))
        _follow_orphans(self._entry_orphans, keys, inventory, desired.blocklist, whole=bool(whole))
        half = results.half(desired.blocklist, inventory)
        half[0].owned = half[0].owned_from_source = inventory.owned
        half[0].unowned = len(inventory.unowned)
        return half, whole, len(keys)


_Half = tuple[DiffResult, list[PlanItem], list[tuple[PlanItem, Diagnostic]]]


class _Last(Generic[K, V]):
    """A mapping as the last pass had it, in its order: the desired items of one kind, the
    write journal."""

    def __init__(self) -> None:
        self.keys: list[K] = []
        self.values: list[V] = []

    def take(self, now: Mapping[K, V]) -> tuple[list[K], list[K], dict[K, V]]:
        """The keys whose value is not the very instance of the last pass (new ones
        included), the keys gone, and the former values of both."""
        keys, values = list(now), list(now.values())
        last_keys, last = self.keys, self.values
        self.keys, self.values = keys, values
        held = len(last_keys)
        if keys[:held] == last_keys:  # in the same order, some maybe added: no lookup by key
            at = list(compress(range(held), map(is_not, values, last)))
            return [keys[i] for i in at] + keys[held:], [], {keys[i]: last[i] for i in at}
        before = dict(zip(last_keys, last, strict=True))
        moved = list(compress(keys, map(is_not, values, map(before.get, keys))))
        former = {k: before[k] for k in moved if k in before}
        removed: list[K] = []
        if len(before) + len(moved) - len(former) != len(now):  # some left
            removed = list(before.keys() - now.keys())
            former.update((k, before[k]) for k in removed)
        return moved, removed, former


def _follow_orphans(
    orphans: set[Key],
    keys: set[Key],
    inventory: Inventory[ActualIntel] | Inventory[ActualBlocklist],
    wanted: Mapping[Key, object],
    *,
    whole: bool,
) -> None:
    """The owned keys no longer desired (joined on every pass), after joining `keys`."""
    if whole:
        orphans.clear()
    for key in keys:
        if key in inventory.held and key not in wanted:
            orphans.add(key)
        else:
            orphans.discard(key)
