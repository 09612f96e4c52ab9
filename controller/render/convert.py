"""What one OpenCTI indicator or observable becomes in Tanium (pure; never raises on content).

Dispatch on the indicator's `pattern_type` (stix → OpenIOC, yara, tanium-signal; everything
else is skipped) or on the observable's entity type (see `observables`).
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.core.diagnostics import Diagnostic
from controller.core.model import Key, SourceObject
from controller.render import openioc
from controller.render.canonical import STIX_HASH_NAMES, file_key, value_key
from controller.render.check import check_signal, check_yara, prefetch_yara
from controller.render.intel import signal_platforms
from controller.render.observables import convert_observable
from controller.render.stix import Unfaithful, atomic, to_tree
from controller.render.stix_pattern import PatternError, parse_pattern
from controller.render.types import Conversion, FileCandidate, IntelCandidate

SIGNAL_TYPES = ("tanium-signal", "tanium_signal")


def skip(key: str, reason: str, severity: str | None = None) -> Conversion:
    """A skipped object; with `severity`, the reason is also a diagnostic naming the key."""
    diagnostics: tuple[Diagnostic, ...] = ()
    if severity == "error":
        diagnostics = (Diagnostic.error(reason, key=key),)
    elif severity == "warning":
        diagnostics = (Diagnostic.warning(reason, key=key),)
    return Conversion(skip_reason=reason, diagnostics=diagnostics)


def prefetch(objects: Iterable[SourceObject]) -> None:
    """Optional: check all YARA patterns of `objects` in batches before `convert` is called
    for each (same results, ~100x faster for large sets; the results are cached)."""
    prefetch_yara(
        o.pattern
        for o in objects
        if o.is_indicator and o.pattern and (o.pattern_type or "").strip().lower() == "yara"
    )


def convert(obj: SourceObject, *, hash_patterns_to_blocklist: bool = True) -> Conversion:
    """An indicator or observable → intel and/or blocklist candidates, or a skip reason."""
    if not obj.is_indicator:
        return convert_observable(obj)
    key = obj.standard_id
    pattern = obj.pattern or ""
    pattern_type = (obj.pattern_type or "").strip().lower()
    if not pattern.strip():
        return skip(key, "indicator has no pattern", "error")
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        return skip(key, "pattern is not valid Unicode text (lone surrogate)", "error")
    if pattern_type == "stix":
        return _stix(obj, hash_patterns_to_blocklist)
    if pattern_type == "yara":
        return _yara(obj)
    if pattern_type in SIGNAL_TYPES:
        return _signal(obj)
    shown = obj.pattern_type or "(none)"
    return skip(key, f"pattern type '{shown}' not supported by Tanium")


def _stix(obj: SourceObject, to_blocklist: bool) -> Conversion:
    key = obj.standard_id
    pattern = obj.pattern or ""
    try:  # `check_stix`'s verdict, from the one parse rendering needs anyway
        tree = parse_pattern(pattern)
    except PatternError as exc:
        return skip(key, f"invalid STIX pattern: {exc}", "error")
    try:
        terms = to_tree(tree)
    except Unfaithful as exc:
        return skip(key, f"STIX pattern not convertible to OpenIOC: {exc}", "warning")
    single = atomic(tree, terms)  # the value canonicalised once, by `to_tree`
    if single is None:
        candidate = IntelCandidate(
            key=Key(key),
            intel_type="openioc",
            name=obj.name or pattern,
            description=obj.description,
            payload=openioc.payload_of(terms),
        )
        return Conversion(intel=(candidate,))
    if single.algorithm is not None:
        hashes = {single.algorithm: single.value}
        item_key = file_key(hashes)
        name = f"{STIX_HASH_NAMES[single.algorithm]} {single.value}"
    else:
        item_key = value_key(single.kind, single.value)
        name = single.value
    intel = IntelCandidate(
        key=item_key,
        intel_type="openioc",
        name=name,
        description=obj.description,
        payload=openioc.payload_of(terms),
    )
    files: tuple[FileCandidate, ...] = ()
    if single.algorithm is not None and to_blocklist:
        files = (FileCandidate(key=item_key, hashes=hashes, name=single.value),)
    return Conversion(intel=(intel,), files=files)


def _yara(obj: SourceObject) -> Conversion:
    key = obj.standard_id
    text = obj.pattern or ""
    verdict = check_yara(text)
    label = f"YARA indicator '{obj.name}'" if obj.name else "YARA indicator"
    warnings = tuple(
        Diagnostic.warning(f"{label}: {w.located()}", key=key) for w in verdict.warnings
    )
    if verdict.error is not None:
        reason = f"invalid {label}: {verdict.error.located()}"
        return Conversion(
            skip_reason=reason, diagnostics=(Diagnostic.error(reason, key=key), *warnings)
        )
    public = verdict.rules[0] if verdict.rules else ""
    candidate = IntelCandidate(
        key=Key(key),
        intel_type="yara",
        name=obj.name or public,
        description=obj.description,
        payload=text,
    )
    return Conversion(intel=(candidate,), diagnostics=warnings)


def _signal(obj: SourceObject) -> Conversion:
    key = obj.standard_id
    verdict = check_signal(obj.pattern or "")
    if verdict.error is not None:
        return skip(key, f"invalid Tanium Signal: {verdict.error.message}", "error")
    candidate = IntelCandidate(
        key=Key(key),
        intel_type="tanium-signal",
        name=obj.name,
        description=obj.description,
        payload=verdict.expression,
        platforms=signal_platforms(obj.platforms),
    )
    return Conversion(intel=(candidate,))
