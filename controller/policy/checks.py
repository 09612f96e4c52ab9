"""Semantic checks: what a well-typed policy can still get wrong.

Per document: conflicting selectors, targets that receive nothing, settings that defeat
themselves. Across documents: static intel names that collide in Tanium, policies that ask
for contradictory platforms for the same objects and groups. Overlaps between policies are
not conflicts: the desired-state builder merges them.

Every finding says where it points (`at`, a camelCase path inside the document); the loader
turns that into file:line:col.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller.core.diagnostics import Position, Severity
from controller.policy.models import (
    FILE_TYPES,
    SUPPORTED_PATTERN_TYPES,
    Exclusion,
    IntelPolicy,
    Select,
    Settings,
    StaticIntel,
    TimeWindow,
    effective_name,
    parse_duration,
)

if TYPE_CHECKING:
    from controller.policy.located import Located

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    message: str
    at: Loc = ()
    key: bool = False
    """Point at the key rather than at its value."""
    detail: str = ""


def _error(message: str, *at: str | int, key: bool = False, detail: str = "") -> Finding:
    return Finding("error", message, at, key, detail)


def _warning(message: str, *at: str | int, key: bool = False, detail: str = "") -> Finding:
    return Finding("warning", message, at, key, detail)


# --------------------------------------------------------------------------- one document


def check_document(doc: IntelPolicy | StaticIntel | Exclusion | Settings) -> list[Finding]:
    if isinstance(doc, IntelPolicy):
        return [*_select(doc.spec.select), *_target(doc)]
    if isinstance(doc, StaticIntel):
        return list(_static(doc))
    if isinstance(doc, Exclusion):
        return list(_exclusion(doc))
    return list(_settings(doc))


def _lower(items: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, item in enumerate(items):
        out.setdefault(item.lower(), index)
    return out


def _select(select: Select) -> Iterator[Finding]:
    base = ("spec", "select")
    labels = select.labels
    none_of = _lower(labels.none_of)
    for group, items in (("anyOf", labels.any_of), ("allOf", labels.all_of)):
        for label, index in _lower(items).items():
            if label in none_of:
                yield _error(
                    f"label '{items[index]}' is in both labels.{group} and labels.noneOf: "
                    f"the selector contradicts itself",
                    *base,
                    "labels",
                    "noneOf",
                    none_of[label],
                )
    entity_types = set(select.entity_types)
    if entity_types and "Indicator" not in entity_types:
        if select.pattern_types:
            yield _error(
                "patternTypes filters indicators, but entityTypes does not include Indicator: "
                "this policy could never select anything through it",
                *base,
                "patternTypes",
                key=True,
                detail="add Indicator to entityTypes, or remove patternTypes",
            )
        if select.observable_types and not entity_types & set(select.observable_types):
            yield _error(
                "observableTypes and entityTypes have no type in common, and entityTypes "
                "does not include Indicator: this policy selects nothing",
                *base,
                "observableTypes",
                key=True,
            )
    for index, pattern_type in enumerate(select.pattern_types):
        if pattern_type not in SUPPORTED_PATTERN_TYPES:
            yield _warning(
                f"Tanium cannot hold pattern type '{pattern_type}': such indicators are "
                f"skipped (Tanium holds: {', '.join(SUPPORTED_PATTERN_TYPES)})",
                *base,
                "patternTypes",
                index,
            )
    if select.allow_red and select.markings and "TLP:RED" not in select.markings:
        yield _warning(
            "allowRed is true but markings does not list TLP:RED: allowRed has no effect "
            "(markings, when given, must list TLP:RED too)",
            *base,
            "allowRed",
        )
    for name, window in (("created", select.created), ("updated", select.updated)):
        if window is not None:
            yield from _window(window, (*base, name), name)
    created, updated = select.created, select.updated
    if created and updated and created.after and updated.before and updated.before <= created.after:
        yield _error(
            f"updated.before ({updated.before.isoformat()}) is not later than created.after "
            f"({created.after.isoformat()}): an object is never updated before it is "
            "created, so nothing can match",
            *base,
            "updated",
            "before",
        )


def _window(window: TimeWindow, at: Loc, name: str) -> Iterator[Finding]:
    if window.after and window.before and window.after >= window.before:
        yield _error(
            f"{name}.after ({window.after.isoformat()}) is not earlier than {name}.before "
            f"({window.before.isoformat()}): the window is empty",
            *at,
            "after",
        )
    if window.within is not None and parse_duration(window.within).total_seconds() == 0:
        yield _error(f"{name}.within is zero: the window is empty", *at, "within")


def _target(doc: IntelPolicy) -> Iterator[Finding]:
    select, target = doc.spec.select, doc.spec.target
    if target.blocklist is None:
        return
    entity_types = set(select.entity_types)
    files = not entity_types or bool(entity_types & set(FILE_TYPES))
    stix_indicators = (not entity_types or "Indicator" in entity_types) and (
        not select.pattern_types or "stix" in select.pattern_types
    )
    if not files and not stix_indicators:
        yield _warning(
            "target.blocklist holds file hashes (from StixFile/Artifact observables and STIX "
            "hash patterns), and this policy selects neither: the blocklist receives nothing",
            "spec",
            "target",
            "blocklist",
            key=True,
        )


def _static(doc: StaticIntel) -> Iterator[Finding]:
    spec = doc.spec
    if spec.type != "hashes" and spec.hashes:
        yield _error(
            f"`hashes` only applies to type: hashes (this one is type: {spec.type})",
            "spec",
            "hashes",
            key=True,
        )


def _exclusion(doc: Exclusion) -> Iterator[Finding]:
    spec = doc.spec
    if not (spec.values or spec.hashes or spec.ids or spec.labels):
        yield _warning(
            "this exclusion lists no values, hashes, ids or labels: it excludes nothing",
            "spec",
            key=True,
        )


def _settings(doc: Settings) -> Iterator[Finding]:
    spec = doc.spec
    if parse_duration(spec.schedule.interval).total_seconds() < 60:
        yield _warning(
            f"schedule.interval {spec.schedule.interval} is shorter than a minute: every "
            "pass reads all of OpenCTI and Tanium",
            "spec",
            "schedule",
            "interval",
        )


# --------------------------------------------------------------------------- across documents

Where = Callable[["Located", Loc], Position]
"""Where a path of a located document sits (given by the loader)."""


def check_set(items: Sequence[Located], where: Where) -> list[tuple[Located, Finding]]:
    """Conflicts between documents that no merge can resolve."""
    out: list[tuple[Located, Finding]] = []
    out.extend(_static_names(items, where))
    out.extend(_platform_conflicts(items, where))
    return out


def _static_names(items: Sequence[Located], where: Where) -> Iterator[tuple[Located, Finding]]:
    first: dict[str, Located] = {}
    for item in items:
        doc = item.document
        if not isinstance(doc, StaticIntel):
            continue
        name = effective_name(doc)
        other = first.setdefault(name.lower(), item)
        if other is item:
            continue
        at: Loc = ("spec", "name") if doc.spec.name else ("metadata", "name")
        other_doc = other.document
        assert isinstance(other_doc, StaticIntel)
        other_at: Loc = ("spec", "name") if other_doc.spec.name else ("metadata", "name")
        yield (
            item,
            _error(
                f"produces the intel document '{name}', as does StaticIntel "
                f"'{other_doc.metadata.name}' at {where(other, other_at)}: Tanium would hold "
                "one and the controller would flip between them",
                *at,
                detail="give one of them a different spec.name",
            ),
        )


def _platform_conflicts(
    items: Sequence[Located], where: Where
) -> Iterator[tuple[Located, Finding]]:
    first: dict[tuple[Select, frozenset[str]], Located] = {}
    for item in items:
        doc = item.document
        if not isinstance(doc, IntelPolicy) or doc.spec.target.intel is None:
            continue
        target = doc.spec.target
        platforms = frozenset(target.intel.platforms) if target.intel else frozenset()
        if not platforms:
            continue
        groups = frozenset(target.quick_scan.computer_groups) if target.quick_scan else frozenset()
        ident = (doc.spec.select, groups)
        other = first.setdefault(ident, item)
        if other is item:
            continue
        other_doc = other.document
        assert isinstance(other_doc, IntelPolicy) and other_doc.spec.target.intel is not None
        other_platforms = frozenset(other_doc.spec.target.intel.platforms)
        if other_platforms == platforms:
            continue
        yield (
            item,
            _error(
                f"selects exactly what IntelPolicy '{other_doc.metadata.name}' "
                f"({where(other, ('spec', 'select'))}) selects, for the same computer groups, "
                f"but asks for platforms [{', '.join(sorted(platforms))}] where it asks for "
                f"[{', '.join(sorted(other_platforms))}]",
                "spec",
                "target",
                "intel",
                "platforms",
                detail="merge the two policies, or make their selectors differ",
            ),
        )
