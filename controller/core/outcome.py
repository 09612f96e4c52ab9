"""One source object against the policies: which select it, why it is skipped, what it
renders to and what it contributes to which keys. Pure: `now` is a parameter.

`build_desired` (`controller.core.desired`) merges the outcomes of all objects at once;
`DesiredMemo` keeps them per object between passes and merges again only the keys whose
contributions changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controller.core.diagnostics import Diagnostic
from controller.core.exclusions import ExclusionIndex
from controller.core.model import Key, SourceObject
from controller.core.reasons import Reason
from controller.core.selection import lifecycle_reason, selects
from controller.core.static import static_conversions
from controller.policy.located import Located, PolicySet
from controller.policy.models import IntelPolicy, IntelPolicySpec
from controller.render import convert
from controller.render.canonical import canonical_hashes
from controller.render.types import Conversion, FileCandidate, IntelCandidate


@dataclass(frozen=True)
class SkippedObject:
    key: str
    reason: Reason
    name: str = ""
    detail: str = ""


Chosen = list[tuple[Located, IntelPolicySpec]]
"""Policies with their specs (looked up once per object)."""


def safe_convert(obj: SourceObject, policies: Chosen) -> Conversion:
    """Render one object; content nobody foresaw (a pattern nested 1,000 deep) is a skip with
    an error diagnostic naming the object, never a crashed plan."""
    to_blocklist = False
    for _, spec in policies:
        target = spec.target.blocklist
        if target is not None and target.stix_hash_patterns:
            to_blocklist = True
            break
    try:
        return convert(obj, hash_patterns_to_blocklist=to_blocklist)
    except (RecursionError, ValueError, TypeError, KeyError, IndexError) as exc:
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
    allowed: Chosen = []
    first: Reason | None = None  # the first policy's reason, when none lets it through
    for located, spec in chosen:
        reason = lifecycle_reason(spec.select, obj, now=now)
        if reason is None:
            allowed.append((located, spec))
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


def ordered_policies(policies: PolicySet) -> list[Located]:
    """Intel policies in the order they are tried: priority first, then name."""
    return sorted(
        policies.intel_policies, key=lambda p: (-policy_spec(p).priority, p.document.metadata.name)
    )


def evaluate(
    obj: SourceObject, ordered: Sequence[Located], exclusions: ExclusionIndex, *, now: datetime
) -> Outcome | None:
    """One object against the ordered policies; None when no policy selects it. Runs for
    every object of every pass: each policy's spec is looked up once here and handed on."""
    chosen: Chosen = []
    for located in ordered:
        spec = policy_spec(located)
        if selects(spec.select, obj, now=now):
            chosen.append((located, spec))
    if not chosen:
        return None
    why, allowed = _why_not(obj, chosen, exclusions, now=now)
    conversion = safe_convert(obj, allowed or chosen)
    if why is not None:
        return _skipped(obj, why, conversion)
    if conversion.skip_reason is not None:
        code = skip_code(conversion.skip_reason)
        skipped = SkippedObject(obj.standard_id, code, _label(obj), conversion.skip_reason)
        return Outcome(obj, conversion.diagnostics, skipped)
    return _contributions(obj, allowed, conversion)


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
    for located, spec in chosen:
        target = spec.target
        if target.intel is not None:
            urls = target.intel.urls
            for candidate in conversion.intel:
                if not urls and URL_TERM in candidate.payload:
                    urls_off = True
                    continue
                intel.append((candidate, located))
        if (
            conversion.files
            and target.blocklist is not None
            and (not obj.is_indicator or target.blocklist.stix_hash_patterns)
        ):
            files.extend((file, located) for file in conversion.files)
    skipped = None
    if not intel and not files:
        wanted = ", ".join(sorted({t for _, spec in chosen for t in _targets(spec)}))
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
