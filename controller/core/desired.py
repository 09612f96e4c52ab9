"""Policies × source objects → DesiredState. Pure: no I/O, no clock (`now` is a parameter).

For every source object: which policies select it, whether its lifecycle (revoked, expired,
detection off) or an exclusion keeps it out, what it renders to, and where it goes
(`controller.core.outcome`). Objects that render to the same key (the same domain from three
indicators) become one item with the union of labels and targets. Quotas evict the
lowest-priority items, visibly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter

from controller.core.diagnostics import Diagnostic
from controller.core.exclusions import ExclusionIndex
from controller.core.labels import merge_labels
from controller.core.model import DesiredBlocklist, DesiredIntel, Key, SourceObject, SourceSnapshot
from controller.core.outcome import (
    Outcome,
    SkippedObject,
    evaluate,
    note_excluded,
    ordered_policies,
    policy_spec,
    static_parts,
)
from controller.core.reasons import Reason
from controller.policy.located import Located, PolicySet
from controller.policy.models import IntelPolicySpec, StaticIntel, StaticIntelSpec
from controller.render import render_blocklist, render_intel
from controller.render.canonical import file_key
from controller.render.convert import prefetch
from controller.render.marker import installation_id
from controller.render.types import FileCandidate, IntelCandidate


@dataclass
class DesiredState:
    intel: dict[Key, DesiredIntel] = field(default_factory=dict)
    blocklist: dict[Key, DesiredBlocklist] = field(default_factory=dict)
    skipped: list[SkippedObject] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    excluded_hashes: dict[str, str] = field(default_factory=dict)
    """Hashes of excluded objects → why (their files are excluded by any of their hashes)."""
    gone: dict[Key, Reason] = field(default_factory=dict)
    """Keys a skipped object would have produced → why it is not desired (revoked, expired,
    excluded, quota...). The diff uses it as the reason for deleting such a document."""
    drift_warn: set[Key] = field(default_factory=set)
    """Keys whose every policy says `drift: warn`: drift is reported, not corrected."""

    @property
    def size(self) -> int:
        return len(self.intel) + len(self.blocklist)

    def __repr__(self) -> str:
        # the default would print every item: leaving `asyncio.run` with an `Outcome` (which
        # holds this) builds the main task's repr on CPython 3.11 — 4 s at 100,000 items
        return (
            f"DesiredState({len(self.intel)} intel, {len(self.blocklist)} blocklist entries, "
            f"{len(self.skipped)} skipped)"
        )


_NONE: frozenset[str] = frozenset()


def _grown(current: AbstractSet[str], items: Iterable[str]) -> AbstractSet[str]:
    """`current` with `items`. Most merges get no platforms and no scan groups: they share one
    empty frozenset (two empty sets per document were ~40 MB of a 100,000-document build);
    a set of its own from the first item on."""
    if isinstance(current, set):
        current.update(items)
        return current
    grown = set(current)
    grown.update(items)
    return grown if grown else current


def _union(
    current: Collection[str], items: tuple[str, ...], more: tuple[str, ...] = ()
) -> Collection[str]:
    """`current` with `items` and `more`: while one tuple holds them all (a key's first
    contributor's labels), that tuple itself, shared; a set of the merge's own from the first
    contribution that adds to it."""
    if isinstance(current, set):
        current.update(items, more)
        return current
    if not more and (not current or current is items):
        return items
    if not items and not more:
        return current
    grown = set(current)
    grown.update(items, more)
    return grown


def _added(current: Collection[str], item: str) -> Collection[str]:
    """`current` with `item`: a 1-tuple while it is the only one, then a set of its own."""
    if isinstance(current, set):
        current.add(item)
        return current
    if not current:
        return (item,)
    if item in current:
        return current
    return {*current, item}


@lru_cache(maxsize=1024)  # a few policy names
def _alone(name: str) -> tuple[str]:
    """One tuple per policy name, shared by every item it alone selected (100,000 tuples
    fewer kept in a pass's desired state)."""
    return (name,)


def _sorted(items: Collection[str]) -> tuple[str, ...]:
    """A `Merge`'s sources or policies, sorted: a tuple holds one (already sorted)."""
    return items if isinstance(items, tuple) else tuple(sorted(items))


@dataclass(slots=True)
class Merge:
    """Everything several objects/policies contribute to one key.

    Most keys have one contributor (100,000 of 100,000 in the benchmark): until a second one
    brings something new, `labels` is its object's tuple (shared, not copied), `sources` and
    `policies` are 1-tuples, and `stamp` is its object's datetime, made text only when
    compared or read (`isoformat` was a fifth of merging). Sets and text of the merge's own
    from then on (`_union`, `_added`, `modified`): the same values as sets throughout."""

    candidate: IntelCandidate | FileCandidate
    labels: Collection[str] = ()
    platforms: AbstractSet[str] = _NONE
    scan_groups: AbstractSet[str] = _NONE
    sources: Collection[str] = ()
    policies: Collection[str] = ()
    priority: int = 0
    score: int = -1
    stamp: datetime | str = ""
    """The latest `modified` (else `created`) of the contributing objects: see `modified`."""
    corrects_drift: bool = False
    """A contributing policy has `drift: correct` (static intel always does)."""

    @property
    def modified(self) -> str:
        """The latest ISO timestamp of the contributing objects ("" when none has one)."""
        stamp = self.stamp
        return stamp if isinstance(stamp, str) else stamp.isoformat()


def build_desired(
    policies: PolicySet,
    snapshot: SourceSnapshot,
    *,
    now: datetime,
    terms: Mapping[str, str] | None = None,
) -> DesiredState:
    """`terms`: the tenant's OpenIOC terms (see `controller.render.terms`); None: defaults."""
    state = DesiredState()
    exclusions = ExclusionIndex.build(policies.exclusions)
    intel: dict[Key, Merge] = {}
    files: dict[Key, Merge] = {}
    ordered = ordered_policies(policies)
    prefetch(snapshot.objects)
    merge_outcomes(
        (
            evaluate(obj, ordered, exclusions, now=now)
            for obj in sorted(snapshot.objects, key=_STANDARD_ID)
        ),
        state,
        intel,
        files,
    )
    static = static_parts(policies.static_intel)
    state.diagnostics.extend(static.diagnostics)
    state.skipped.extend(static.skipped)
    for candidate, located in static.intel:
        add_static_intel(intel, candidate, located)
    for file, located in static.files:
        add_static_file(files, file, located)
    files = drop_excluded_files(
        merge_same_files(files, state), exclusions, state.excluded_hashes, state
    )
    quotas = policies.settings.quotas
    _evict(intel, quotas.max_intel, state, "intel documents")
    _evict(files, quotas.max_blocklist, state, "blocklist entries")
    installation = installation_id(policies.settings.source)
    label_sets = LabelSets()
    desired_intel, desired_files, drift_warn = state.intel, state.blocklist, state.drift_warn
    pop = intel.pop
    for key in list(intel):  # each merge freed once finished: they never all outlive the build
        merge = pop(key)
        desired_intel[key] = finish_intel(merge, terms, label_sets)
        if not merge.corrects_drift:
            drift_warn.add(key)
    pop = files.pop
    for key in list(files):
        merge = pop(key)
        desired_files[key] = finish_file(merge, installation, label_sets)
        if not merge.corrects_drift:
            drift_warn.add(key)
    for key in list(state.gone):
        if key in desired_intel or key in desired_files:
            del state.gone[key]
    return state


_STANDARD_ID = attrgetter("standard_id")


def record(state: DesiredState, outcome: Outcome) -> None:
    """An object's diagnostics, skip, gone keys and excluded hashes, in object order."""
    state.diagnostics.extend(outcome.diagnostics)
    skipped = outcome.skipped
    if skipped is None:
        return
    state.skipped.append(skipped)
    for key in outcome.gone:
        state.gone.setdefault(key, skipped.reason)
    note_excluded(state.excluded_hashes, outcome)


@dataclass(frozen=True, slots=True)
class _Policy:
    """What an intel policy brings to every item it contributes to, looked up once per pass
    (`merge_outcomes`)."""

    alone: tuple[str]
    """`_alone` of its name."""
    priority: int
    """Its priority, at least 0 (a merge's starting value)."""
    corrects_drift: bool
    intel: bool
    """Whether it has an intel target (intel from one without is left to `add_intel`,
    which refuses it)."""
    labels: tuple[str, ...]
    """Its intel target's labels."""
    platforms: tuple[str, ...]
    scan_groups: tuple[str, ...]
    """Its quick scan's computer groups (none without one)."""
    located: Located
    """The policy itself, kept alive while its id is a key (`merge_outcomes`)."""

    @staticmethod
    def of(located: Located) -> _Policy:
        spec = policy_spec(located)
        target = spec.target
        intel = target.intel
        return _Policy(
            _alone(located.document.metadata.name),
            spec.priority if spec.priority > 0 else 0,
            spec.drift == "correct",
            intel is not None,
            intel.labels if intel is not None else (),
            intel.platforms if intel is not None else (),
            target.quick_scan.computer_groups if target.quick_scan is not None else (),
            located,
        )

    @staticmethod
    def remember(known: dict[int, _Policy], located: Located) -> _Policy:
        """`of(located)`, kept in `known` under the policy's id for the rest of the pass."""
        policy = known[id(located)] = _Policy.of(located)
        return policy


def merge_outcomes(
    outcomes: Iterable[Outcome | None],
    state: DesiredState,
    intel: dict[Key, Merge],
    files: dict[Key, Merge],
) -> None:
    """Every object's outcome (None: no policy selected it), in object order: its
    diagnostics and skip into `state`, its contributions into the merges of their keys.

    `add_intel` and `add_file` of each contribution, with a key's first contribution (most
    keys' only one) made here, flat, from its policy's `_Policy` (125,000 contributions per
    pass); `tests/unit/test_desired_merge_flat.py` compares the two."""
    policies: dict[int, _Policy] = {}  # id of a `Located` (alive: its facts hold it) → facts
    intel_get = intel.get
    files_get = files.get
    for outcome in outcomes:
        if outcome is None:
            continue
        if outcome.diagnostics or outcome.skipped is not None:  # most objects: neither
            record(state, outcome)
        obj = outcome.obj
        for candidate, located in outcome.intel:
            key = candidate.key
            if intel_get(key) is not None:
                add_intel(intel, candidate, obj, located)
                continue
            policy = policies.get(id(located)) or _Policy.remember(policies, located)
            if not policy.intel:
                add_intel(intel, candidate, obj, located)
                continue
            score = obj.score
            when = obj.modified or obj.created
            platforms = policy.platforms
            scan_groups = policy.scan_groups
            intel[key] = Merge(
                candidate,
                {*obj.labels, *policy.labels} if policy.labels else obj.labels,
                set(platforms) if platforms else _NONE,  # `_grown`: a set of its own
                set(scan_groups) if scan_groups else _NONE,
                (obj.standard_id,),
                policy.alone,
                policy.priority,
                score if score is not None and score > -1 else -1,
                "" if when is None else when,
                policy.corrects_drift,
            )
        for file, located in outcome.files:
            key = file.key
            if files_get(key) is not None:
                add_file(files, file, obj, located)
                continue
            policy = policies.get(id(located)) or _Policy.remember(policies, located)
            score = obj.score
            when = obj.modified or obj.created
            files[key] = Merge(
                file,
                obj.labels,
                _NONE,
                _NONE,
                (obj.standard_id,),
                policy.alone,
                policy.priority,
                score if score is not None and score > -1 else -1,
                "" if when is None else when,
                policy.corrects_drift,
            )


def add_intel(
    merges: dict[Key, Merge], candidate: IntelCandidate, obj: SourceObject, located: Located
) -> None:
    """One object's contribution, through one policy, to an intel document."""
    spec = policy_spec(located)
    target = spec.target
    intel = target.intel
    assert intel is not None
    merge = merges.get(candidate.key)
    if merge is None:  # a key's first contribution (most keys' only one): made at once
        labels = _union((), obj.labels, intel.labels)
        merge = merges[candidate.key] = _first(candidate, labels, obj, located, spec)
    else:
        merge.labels = _union(merge.labels, obj.labels, intel.labels)
        _note(merge, obj, located, spec)
    if intel.platforms:  # growing by nothing changes nothing
        merge.platforms = _grown(merge.platforms, intel.platforms)
    if target.quick_scan is not None:
        merge.scan_groups = _grown(merge.scan_groups, target.quick_scan.computer_groups)


def add_file(
    merges: dict[Key, Merge], file: FileCandidate, obj: SourceObject, located: Located
) -> None:
    """One object's contribution, through one policy, to a blocklist file."""
    merge = merges.get(file.key)
    if merge is None:
        merges[file.key] = _first(file, obj.labels, obj, located, policy_spec(located))
        return
    merge.labels = _union(merge.labels, obj.labels)
    _note(merge, obj, located, policy_spec(located))


def _first(
    candidate: IntelCandidate | FileCandidate,
    labels: Collection[str],
    obj: SourceObject,
    policy: Located,
    spec: IntelPolicySpec,
) -> Merge:
    """`Merge(candidate, labels)` then `_note(merge, obj, policy, spec)`, made at once (once
    per key per pass; `tests/unit/test_desired_merge.py` compares the two)."""
    score = obj.score
    when = obj.modified or obj.created
    return Merge(
        candidate,
        labels,
        _NONE,
        _NONE,
        (obj.standard_id,),
        _alone(policy.document.metadata.name),
        spec.priority if spec.priority > 0 else 0,
        score if score is not None and score > -1 else -1,
        "" if when is None else when,
        spec.drift == "correct",
    )


def _note(merge: Merge, obj: SourceObject, policy: Located, spec: IntelPolicySpec) -> None:
    """Once per contribution (125,000 per pass): written flat, without `max`."""
    merge.sources = _added(merge.sources, obj.standard_id)
    merge.policies = _added(merge.policies, policy.document.metadata.name)
    if spec.priority > merge.priority:
        merge.priority = spec.priority
    if spec.drift == "correct":
        merge.corrects_drift = True
    score = obj.score
    if score is not None and score > merge.score:
        merge.score = score
    when = obj.modified or obj.created
    if when is not None:  # a merge's first stamp stays a datetime (see `Merge.modified`)
        merge.stamp = max(merge.modified, when.isoformat()) if merge.stamp else when


def add_static_intel(merges: dict[Key, Merge], candidate: IntelCandidate, located: Located) -> None:
    spec = _static_spec(located)
    merge = _static_merge(merges, candidate, located)
    merge.platforms = _grown(merge.platforms, spec.platforms)
    if spec.quick_scan is not None:
        merge.scan_groups = _grown(merge.scan_groups, spec.quick_scan.computer_groups)


def add_static_file(merges: dict[Key, Merge], file: FileCandidate, located: Located) -> None:
    _static_merge(merges, file, located)


def _static_spec(located: Located) -> StaticIntelSpec:
    doc = located.document
    assert isinstance(doc, StaticIntel)
    return doc.spec


def _static_merge(
    merges: dict[Key, Merge], candidate: IntelCandidate | FileCandidate, located: Located
) -> Merge:
    """Static intel always corrects drift: Git is its source."""
    name = located.document.metadata.name
    spec = _static_spec(located)
    merge = merges.get(candidate.key)
    if merge is None:
        merge = merges[candidate.key] = Merge(candidate)
    merge.labels = _union(merge.labels, spec.labels)
    merge.sources = _added(merge.sources, f"static:{name}")
    merge.policies = _added(merge.policies, name)
    merge.priority = max(merge.priority, spec.priority)
    merge.corrects_drift = True
    return merge


def drop_excluded_files(
    files: dict[Key, Merge],
    exclusions: ExclusionIndex,
    excluded_hashes: Mapping[str, str],
    state: DesiredState,
) -> dict[Key, Merge]:
    """After merging: a file any of whose hashes is excluded (directly, or as another hash of
    an excluded object) is not synced, whichever object brought it."""
    if not exclusions.hashes and not excluded_hashes:  # no hash excluded: every file kept
        return dict(files)
    kept: dict[Key, Merge] = {}
    for key, merge in files.items():
        candidate = merge.candidate
        assert isinstance(candidate, FileCandidate)
        values = list(candidate.hashes.values())
        why = exclusions.match_hashes(values) or next(
            (excluded_hashes[v] for v in values if v in excluded_hashes), None
        )
        if why is None:
            kept[key] = merge
            continue
        state.skipped.append(SkippedObject(key, Reason.EXCLUDED, candidate.name, why))
        state.gone.setdefault(key, Reason.EXCLUDED)
    return kept


def merge_same_files(files: dict[Key, Merge], state: DesiredState) -> dict[Key, Merge]:
    """One entry per file: candidates sharing any hash (an MD5-only indicator and the
    MD5+SHA-256 observable of the same file) become one, keyed by the strongest hash.
    Reputation consolidates such entries itself, so two would never converge."""
    parent: dict[Key, Key] = {key: key for key in files}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    owner: dict[str, Key] = {}
    ordered = sorted(files)
    shared = False
    for key in ordered:
        candidate = files[key].candidate
        assert isinstance(candidate, FileCandidate)
        for value in candidate.hashes.values():
            if value in owner:
                parent[root(key)] = root(owner[value])
                shared = True
            else:
                owner[value] = key
    if not shared:  # the common case: every file its own group, in key order
        return {key: files[key] for key in ordered}
    groups: dict[Key, list[Key]] = {}
    for key in ordered:
        groups.setdefault(root(key), []).append(key)
    merged: dict[Key, Merge] = {}
    for members in groups.values():
        if len(members) == 1:
            merged[members[0]] = files[members[0]]
            continue
        hashes: dict[str, str] = {}
        conflict = False
        for key in members:
            candidate = files[key].candidate
            assert isinstance(candidate, FileCandidate)
            for algorithm, value in candidate.hashes.items():
                conflict |= hashes.setdefault(algorithm, value) != value
        if conflict:  # two files share one hash but not another: Reputation would merge
            keep = members[0]  # them into one entry and the two would flap forever
            merged[keep] = files[keep]
            for other in members[1:]:
                name = files[other].candidate.name
                state.skipped.append(
                    SkippedObject(
                        other,
                        Reason.CONFLICT,
                        name,
                        f"shares a hash with {keep} but another hash differs; Reputation would "
                        "merge the two entries, so only the first is synced",
                    )
                )
                state.diagnostics.append(
                    Diagnostic.warning(
                        f"blocklist file {name} conflicts with {keep}: one hash equal, another "
                        f"different; only {keep} is synced",
                        key=other,
                    )
                )
            continue
        first = files[members[0]].candidate
        key = file_key(hashes)
        labels: set[str] = set()
        sources: set[str] = set()
        policies: set[str] = set()
        combined = Merge(FileCandidate(key=key, hashes=hashes, name=first.name), labels)
        combined.sources, combined.policies = sources, policies
        for member in members:
            part = files[member]
            labels.update(part.labels)
            sources.update(part.sources)
            policies.update(part.policies)
            combined.priority = max(combined.priority, part.priority)
            combined.score = max(combined.score, part.score)
            combined.stamp = max(combined.modified, part.modified)
            combined.corrects_drift |= part.corrects_drift
            if member != key:
                state.gone.setdefault(member, Reason.MERGED)
        merged[key] = combined
    return merged


def _evict(merges: dict[Key, Merge], limit: int | None, state: DesiredState, what: str) -> None:
    """Keep the `limit` most important items: policy priority, then score, then recency."""
    if limit is None or len(merges) <= limit:
        return
    ranked = sorted(
        merges.items(),
        key=lambda kv: (
            -kv[1].priority,
            -kv[1].score,
            not kv[1].modified,
            _desc(kv[1].modified),
            kv[0],
        ),
    )
    for key, merge in ranked[limit:]:
        name = merge.candidate.name
        state.skipped.append(
            SkippedObject(
                key,
                Reason.QUOTA,
                name,
                f"over the quota of {limit} {what} (priority {merge.priority}, "
                f"score {merge.score if merge.score >= 0 else 'none'})",
            )
        )
        state.gone[key] = Reason.QUOTA
        del merges[key]


def _desc(stamp: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in stamp)


class LabelSets(dict[tuple[str, ...] | frozenset[str], tuple[str, ...]]):
    """`merge_labels` once per distinct label set (a few dozen per pass, not one per item):
    label set → merged labels, each made on its first lookup. `finish_intel` and
    `finish_file` look a merge's labels up themselves (once per item per pass: a dict
    lookup, no call), the way `__call__` does."""

    def __missing__(self, key: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
        found = self[key] = merge_labels(key)
        return found

    def __call__(self, labels: Collection[str]) -> tuple[str, ...]:
        # one contributor's tuple is a key as it is (its order and repeats do not change
        # what `merge_labels` makes of it)
        return self[labels if isinstance(labels, tuple) else frozenset(labels)]


def finish_intel(
    merge: Merge, terms: Mapping[str, str] | None, label_sets: LabelSets
) -> DesiredIntel:
    candidate = merge.candidate
    assert isinstance(candidate, IntelCandidate)
    if candidate.intel_type == "tanium-signal":
        # only a signal document carries platforms; elsewhere they would be invisible
        platforms = tuple(sorted(set(candidate.platforms) | merge.platforms))
        if platforms != candidate.platforms:
            candidate = IntelCandidate(
                candidate.key,
                candidate.intel_type,
                candidate.name,
                candidate.description,
                candidate.payload,
                platforms,
            )
    scan_groups = merge.scan_groups
    labels = merge.labels  # `label_sets(labels)` and `_sorted`, inlined (once per document)
    sources = merge.sources
    policies = merge.policies
    return render_intel(
        candidate,
        terms,
        labels=label_sets[labels if type(labels) is tuple else frozenset(labels)],
        scan_groups=tuple(sorted(scan_groups)) if scan_groups else (),
        sources=sources if type(sources) is tuple else tuple(sorted(sources)),
        priority=merge.priority,
        policies=policies if type(policies) is tuple else tuple(sorted(policies)),
    )


def finish_file(merge: Merge, installation: str, label_sets: LabelSets) -> DesiredBlocklist:
    candidate = merge.candidate
    assert isinstance(candidate, FileCandidate)
    labels = merge.labels  # as in `finish_intel`
    sources = merge.sources
    policies = merge.policies
    return render_blocklist(
        candidate,
        labels=label_sets[labels if type(labels) is tuple else frozenset(labels)],
        installation=installation,
        sources=sources if type(sources) is tuple else tuple(sorted(sources)),
        priority=merge.priority,
        policies=policies if type(policies) is tuple else tuple(sorted(policies)),
    )
