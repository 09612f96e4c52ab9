"""One source object against the policies: which select it, why it is skipped, what it
renders to and what it contributes to which keys. Pure: `now` is a parameter.

`build_desired` (`controller.core.desired`) merges the outcomes of all objects at once;
`DesiredMemo` keeps them per object between passes and merges again only the keys whose
contributions changed.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controller.core.diagnostics import Diagnostic
from controller.core.exclusions import ExclusionIndex
from controller.core.model import Key, SourceObject
from controller.core.reasons import Reason
from controller.core.selection import (
    lifecycle_clear,
    lifecycle_reason,
    selects,
    selects_everything,
)
from controller.core.static import static_conversions
from controller.policy.located import Located, PolicySet
from controller.policy.models import IntelPolicy, IntelPolicySpec
from controller.render import convert
from controller.render.canonical import canonical_hashes
from controller.render.convert import plain_stix
from controller.render.types import Conversion, FileCandidate, IntelCandidate


@dataclass(frozen=True)
class SkippedObject:
    key: str
    reason: Reason
    name: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class PolicyFacts:
    """What `evaluate` reads of one intel policy, looked up once per policy set (not once
    per object): its spec and what its select and targets amount to."""

    located: Located
    spec: IntelPolicySpec
    takes_all: bool
    """`select: {}`: every object is selected (`selects_everything`)."""
    intel: bool
    """It targets intel documents..."""
    urls: bool
    """...URL ones included."""
    hash_patterns: bool
    """It targets the blocklist and lets STIX hash patterns feed it."""
    blocklist: bool

    @classmethod
    def of(cls, located: Located) -> PolicyFacts:
        spec = policy_spec(located)
        intel, blocklist = spec.target.intel, spec.target.blocklist
        return cls(
            located=located,
            spec=spec,
            takes_all=selects_everything(spec.select),
            intel=intel is not None,
            urls=intel is not None and intel.urls,
            hash_patterns=blocklist is not None and blocklist.stix_hash_patterns,
            blocklist=blocklist is not None,
        )


Chosen = Sequence[PolicyFacts]
"""The policies that selected an object."""

Policies = tuple[tuple[PolicyFacts, ...], bool]
"""Each policy's facts, and whether every one of them selects everything (and there is one)."""


class OrderedPolicies(list[Located]):
    """`ordered_policies`' list, with each policy's facts made once for every object (they
    are made again, the same, should the list have changed since)."""

    def __init__(self, policies: Iterable[Located]) -> None:
        super().__init__(policies)
        self.located = tuple(self)
        self.policies = _policies_of(self.located)


def _policies_of(ordered: Iterable[Located]) -> Policies:
    facts = tuple(map(PolicyFacts.of, ordered))
    return facts, bool(facts) and all(f.takes_all for f in facts)


_CONTENT_ERRORS = (RecursionError, ValueError, TypeError, KeyError, IndexError)
"""What rendering content nobody foresaw may raise (`safe_convert`)."""


def safe_convert(obj: SourceObject, policies: Chosen) -> Conversion:
    """Render one object; content nobody foresaw (a pattern nested 1,000 deep) is a skip with
    an error diagnostic naming the object, never a crashed plan."""
    to_blocklist = False
    for facts in policies:
        if facts.hash_patterns:
            to_blocklist = True
            break
    try:
        return convert(obj, hash_patterns_to_blocklist=to_blocklist)
    except _CONTENT_ERRORS as exc:
        reason = f"invalid content: cannot be rendered ({type(exc).__name__}: {str(exc)[:200]})"
        return Conversion(
            skip_reason=reason, diagnostics=(Diagnostic.error(reason, key=obj.standard_id),)
        )


def skip_code(message: str) -> Reason:
    """The short reason of a content skip (the renderer's message becomes the detail)."""
    lowered = message.lower()
    if lowered.startswith("pattern type"):
        return Reason.UNSUPPORTED_PATTERN_TYPE
    if lowered.startswith("observable type"):
        return Reason.UNSUPPORTED_OBSERVABLE
    if "not convertible" in lowered:
        return Reason.UNSUPPORTED_PATTERN
    if lowered.startswith("invalid") or "no pattern" in lowered:
        return Reason.INVALID_CONTENT
    return Reason.UNSUPPORTED


def policy_spec(located: Located) -> IntelPolicySpec:
    doc = located.document
    assert isinstance(doc, IntelPolicy)
    return doc.spec


def _label(obj: SourceObject) -> str:
    return obj.name or obj.value or obj.standard_id


def _why_not(
    obj: SourceObject, chosen: Chosen, exclusions: ExclusionIndex, *, now: datetime
) -> tuple[tuple[Reason, str] | None, Chosen]:
    """The reason a selected object must not be synced and its detail (or None), and the
    policies whose own lifecycle rules let it through: one policy's `allowRed` or
    `includeRevoked` never makes an object flow into another policy's targets."""
    excluded = exclusions.match_object(obj)
    if excluded is not None:  # `excluded: <exclusion> (<reason>)`
        return (Reason.EXCLUDED, excluded.partition(": ")[2]), []
    allowed: list[PolicyFacts] = []
    first: Reason | None = None  # the first policy's reason, when none lets it through
    for facts in chosen:
        reason = lifecycle_reason(facts.spec.select, obj, now=now)
        if reason is None:
            allowed.append(facts)
        elif first is None:
            first = reason
    if allowed:
        return None, allowed
    assert first is not None  # `chosen` is never empty: some policy gave the reason
    return (first, ""), []


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one selected source object brings to the desired state before merging: its
    diagnostics, why it is skipped, and its contributions to keys. `build_desired` merges
    them at once; `DesiredMemo` keeps them per object and merges again only the keys whose
    contributions changed."""

    obj: SourceObject
    diagnostics: tuple[Diagnostic, ...] = ()
    skipped: SkippedObject | None = None
    gone: tuple[Key, ...] = ()
    """The keys a lifecycle or exclusion skip would have produced: gone for `skipped.reason`."""
    excluded: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    """An excluded object's hashes: those of its files (excluded whoever excluded them
    before), and its own (unless already excluded)."""
    intel: tuple[tuple[IntelCandidate, Located], ...] = ()
    files: tuple[tuple[FileCandidate, Located], ...] = ()


def ordered_policies(policies: PolicySet) -> OrderedPolicies:
    """Intel policies in the order they are tried: priority first, then name."""
    return OrderedPolicies(
        sorted(
            policies.intel_policies,
            key=lambda p: (-policy_spec(p).priority, p.document.metadata.name),
        )
    )


def evaluate(
    obj: SourceObject, ordered: Sequence[Located], exclusions: ExclusionIndex, *, now: datetime
) -> Outcome | None:
    """One object against the ordered policies; None when no policy selects it. Runs for
    every object of every pass, written flat: the policies' facts are made once per list
    (`OrderedPolicies`), and an object nothing stops (no exclusion, no lifecycle reason) with
    a plain STIX pattern (most indicators) is rendered without a `Conversion`
    (`tests/unit/test_evaluate_fast.py` compares with `evaluate_chosen`)."""
    if (  # the list's own facts, unless changed since it was made (checked inline: hot)
        type(ordered) is OrderedPolicies
        and len(ordered) == len(ordered.located)
        and all(map(operator.is_, ordered, ordered.located))
    ):
        facts, takes_all = ordered.policies
    else:
        facts, takes_all = _policies_of(ordered)
    chosen: Chosen = facts  # every policy selects everything (the usual case): all of them
    if not takes_all:
        chosen = [f for f in facts if f.takes_all or selects(f.spec.select, obj, now=now)]
        if not chosen:
            return None
    if exclusions.empty and lifecycle_clear(obj, now=now):  # every selecting policy takes it
        pattern = obj.pattern
        if pattern and obj.pattern_type == "stix" and obj.entity_type == "Indicator":
            outcome = _plain(obj, pattern, chosen)
            if outcome is not None:
                return outcome
        return _rendered(obj, chosen, None, chosen)
    why, allowed = _why_not(obj, chosen, exclusions, now=now)
    return _rendered(obj, chosen, why, allowed)


def evaluate_chosen(
    obj: SourceObject, chosen: Chosen, exclusions: ExclusionIndex, *, now: datetime
) -> Outcome:
    """`evaluate` of an object the `chosen` policies selected, the general way."""
    why, allowed = _why_not(obj, chosen, exclusions, now=now)
    return _rendered(obj, chosen, why, allowed)


def _rendered(
    obj: SourceObject, chosen: Chosen, why: tuple[Reason, str] | None, allowed: Chosen
) -> Outcome:
    conversion = safe_convert(obj, allowed or chosen)
    if why is not None:
        return _skipped(obj, why, conversion)
    if conversion.skip_reason is not None:
        code = skip_code(conversion.skip_reason)
        skipped = SkippedObject(obj.standard_id, code, _label(obj), conversion.skip_reason)
        return Outcome(obj, conversion.diagnostics, skipped)
    return _contributions(obj, allowed, conversion)


def _plain(obj: SourceObject, pattern: str, chosen: Chosen) -> Outcome | None:
    """`_rendered(obj, chosen, None, chosen)` for an indicator with a plain STIX pattern
    that some policy targets: its candidates as `plain_stix` makes them, no `Conversion`.
    None otherwise (the general path gives the skip, its reason and its diagnostics)."""
    to_blocklist = False
    for facts in chosen:
        if facts.hash_patterns:
            to_blocklist = True
            break
    try:
        made = plain_stix(obj, pattern, to_blocklist)
    except _CONTENT_ERRORS:  # the general path raises it again, and makes it a skip
        return None
    if made is None:
        return None
    candidate, file = made
    if len(chosen) == 1:  # one policy (the usual case): its pairs without lists
        facts = chosen[0]
        intel: tuple[tuple[IntelCandidate, Located], ...] = ()
        if facts.intel and (facts.urls or URL_TERM not in candidate.payload):
            intel = ((candidate, facts.located),)
        files: tuple[tuple[FileCandidate, Located], ...] = ()
        if file is not None and facts.hash_patterns:
            files = ((file, facts.located),)
    else:
        intel = tuple(
            (candidate, f.located)
            for f in chosen
            if f.intel and (f.urls or URL_TERM not in candidate.payload)
        )
        files = () if file is None else tuple((file, f.located) for f in chosen if f.hash_patterns)
    if not intel and not files:
        return None  # no target: the general path says why
    return _contributed(obj, intel, files)


# An `Outcome` made through its slots' descriptors, as `controller.core.plan.origins_of`
# does (half the cost of the frozen dataclass's `__init__`): one per indicator of a pass.
_new = object.__new__
_set_obj, _set_diagnostics, _set_skipped, _set_gone, _set_excluded, _set_intel, _set_files = (
    Outcome.__dict__[name].__set__
    for name in ("obj", "diagnostics", "skipped", "gone", "excluded", "intel", "files")
)
_NOT_EXCLUDED: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def _contributed(
    obj: SourceObject,
    intel: tuple[tuple[IntelCandidate, Located], ...],
    files: tuple[tuple[FileCandidate, Located], ...],
) -> Outcome:
    """`Outcome(obj, intel=intel, files=files)`."""
    made: Outcome = _new(Outcome)
    _set_obj(made, obj)
    _set_diagnostics(made, ())
    _set_skipped(made, None)
    _set_gone(made, ())
    _set_excluded(made, _NOT_EXCLUDED)
    _set_intel(made, intel)
    _set_files(made, files)
    return made


def note_excluded(excluded_hashes: dict[str, str], outcome: Outcome) -> None:
    """An excluded object's files are excluded by any of their hashes, whichever object
    brings them."""
    files, own = outcome.excluded
    if (files or own) and outcome.skipped is not None:
        detail = outcome.skipped.detail
        excluded_hashes.update(dict.fromkeys(files, detail))
        for value in own:
            excluded_hashes.setdefault(value, detail)


def _skipped(obj: SourceObject, why: tuple[Reason, str], conversion: Conversion) -> Outcome:
    reason, detail = why
    excluded: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if reason == Reason.EXCLUDED:  # the same file's other hashes are excluded with it
        files = tuple(value for file in conversion.files for value in file.hashes.values())
        excluded = (files, tuple(canonical_hashes(obj.hashes).values()))
    return Outcome(
        obj,
        conversion.diagnostics,
        SkippedObject(obj.standard_id, reason, _label(obj), detail),
        tuple(_keys_of(conversion)),
        excluded,
    )


def _keys_of(conversion: Conversion) -> Iterable[Key]:
    yield from (c.key for c in conversion.intel)
    yield from (f.key for f in conversion.files)


def _contributions(obj: SourceObject, chosen: Chosen, conversion: Conversion) -> Outcome:
    intel: list[tuple[IntelCandidate, Located]] = []
    files: list[tuple[FileCandidate, Located]] = []
    urls_off = False
    for facts in chosen:
        located = facts.located
        if facts.intel:
            urls = facts.urls
            for candidate in conversion.intel:
                if not urls and URL_TERM in candidate.payload:
                    urls_off = True
                    continue
                intel.append((candidate, located))
        if conversion.files and facts.blocklist and (not obj.is_indicator or facts.hash_patterns):
            files.extend((file, located) for file in conversion.files)
    skipped = None
    if not intel and not files:
        wanted = ", ".join(sorted({t for facts in chosen for t in _targets(facts.spec)}))
        got = "blocklist entries" if conversion.files else "intel documents"
        if urls_off:
            wanted, got = "intel with `urls: false`", "a URL document (unverified on Tanium)"
        skipped = SkippedObject(
            obj.standard_id,
            Reason.NO_TARGET,
            _label(obj),
            f"renders to {got}, but the selecting policies only target {wanted}",
        )
    return Outcome(obj, conversion.diagnostics, skipped, intel=tuple(intel), files=tuple(files))


URL_TERM = '"UrlHistoryItem/URL"'
"""How a URL term appears in an OpenIOC candidate's payload (canonical JSON)."""


def _targets(spec: IntelPolicySpec) -> list[str]:
    out = []
    if spec.target.intel is not None:
        out.append("intel")
    if spec.target.blocklist is not None:
        out.append("blocklist")
    return out


@dataclass
class StaticParts:
    """What the StaticIntel documents bring: they merge after every source object."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: list[SkippedObject] = field(default_factory=list)
    intel: list[tuple[IntelCandidate, Located]] = field(default_factory=list)
    files: list[tuple[FileCandidate, Located]] = field(default_factory=list)


def static_parts(static: Sequence[Located]) -> StaticParts:
    parts = StaticParts()
    for located, conversion in static_conversions(static):
        parts.diagnostics.extend(conversion.diagnostics)
        if conversion.skip_reason is not None:  # content that cannot be rendered
            doc = located.document
            parts.skipped.append(
                SkippedObject(
                    f"static:{doc.metadata.name}",
                    skip_code(conversion.skip_reason),
                    doc.metadata.name,
                    conversion.skip_reason,
                )
            )
            continue
        parts.intel.extend((candidate, located) for candidate in conversion.intel)
        parts.files.extend((file, located) for file in conversion.files)
    return parts
