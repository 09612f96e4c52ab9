"""What one OpenCTI indicator or observable becomes in Tanium (pure; never raises on content).

Dispatch on the indicator's `pattern_type` (stix → OpenIOC, yara, tanium-signal; everything
else is skipped) or on the observable's entity type (see `observables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from json.encoder import encode_basestring as _string  # what json.dumps uses (ensure_ascii=False)

from controller.core.diagnostics import Diagnostic
from controller.core.model import Key, SourceObject
from controller.render import openioc
from controller.render.canonical import (
    HASH_LENGTHS,
    STIX_HASH_NAMES,
    canonical_domain,
    canonical_ip,
    canonical_url,
    file_key,
    hash_algorithm,
    sco_uuid,
    value_key,
)
from controller.render.check import check_signal, check_yara, prefetch_yara
from controller.render.intel import signal_platforms
from controller.render.observables import convert_observable
from controller.render.stix import HASH_TERMS, VALUE_TERMS, Unfaithful, atomic, to_tree
from controller.render.stix_pattern import PLAIN, PLAIN_HASH_NAMES, PatternError, parse_pattern
from controller.render.types import (
    Conversion,
    FileCandidate,
    IntelCandidate,
    file_candidate,
    openioc_candidate,
)

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
    if pattern_type == "stix":  # most indicators: one plain value, rendered without a tree
        plain = _plain_stix(obj, pattern, hash_patterns_to_blocklist)
        if plain is not None:
            return plain
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


_CANONICAL = {
    "ipv4-addr": lambda value: canonical_ip(value, 4),
    "ipv6-addr": lambda value: canonical_ip(value, 6),
    "domain-name": canonical_domain,
    "hostname": canonical_domain,
    "url": canonical_url,
}
"""`canonical_value` of each type `PLAIN` reads, without looking the type up again."""
_VALUE_HEADS = {
    kind: openioc.term_payload_head(search, content_type)
    for kind, (search, content_type) in VALUE_TERMS.items()
}
_HASH_HEADS = {
    algorithm: openioc.term_payload_head(search, content_type)
    for algorithm, (search, content_type) in HASH_TERMS.items()
}


def _plain_stix(obj: SourceObject, pattern: str, to_blocklist: bool) -> Conversion | None:
    """`_stix(obj, to_blocklist)` for a pattern `PLAIN` reads (most indicators), without the
    pattern tree, the term tree and the atomic value: None whenever that path would not
    render it (an invalid value or hash, a CIDR range), so that path gives the skip and its
    message. `tests/render/test_render_plain_stix.py` compares the two on real and generated
    patterns."""
    made = plain_stix(obj, pattern, to_blocklist)
    if made is None:
        return None
    intel, file = made
    return Conversion(intel=(intel,), files=() if file is None else (file,))


def plain_stix(
    obj: SourceObject, pattern: str, to_blocklist: bool
) -> tuple[IntelCandidate, FileCandidate | None] | None:
    """`_plain_stix`'s candidates without their `Conversion`: the intel document and, for a
    hash with `to_blocklist`, the file (`evaluate` takes them as they are). Written flat: it
    runs for nearly every indicator of a pass."""
    match = PLAIN.fullmatch(pattern)
    if match is None:
        return None
    kind, hash_name, value = match.groups()
    if kind is not None:
        canonical = _CANONICAL[kind](value)
        if not canonical or ("/" in canonical and kind.startswith("ipv")):
            return None
        text = _string(canonical)
        key = kind + "--" + sco_uuid('{"value":' + text + "}")  # `json_value_key(kind, text)`
        payload = _VALUE_HEADS[kind] + text + openioc.TERM_PAYLOAD_TAIL
        return openioc_candidate(key, canonical, obj.description, payload), None
    length, algorithm, stix_name, head, blob_head = _PLAIN_HASHES[hash_name]
    if len(value) != length or not _HEX_DIGITS.fullmatch(value):
        return None
    digest = value.lower()
    key = "file--" + sco_uuid(blob_head + digest + '"}}')  # `hex_file_key(algorithm, digest)`
    payload = f'{head}"{digest}"{openioc.TERM_PAYLOAD_TAIL}'
    intel = openioc_candidate(key, f"{stix_name} {digest}", obj.description, payload)
    if not to_blocklist:
        return intel, None
    return intel, file_candidate(key, {algorithm: digest}, digest)


def _plain_hash(name: str) -> tuple[int, str, str, str, str]:
    algorithm = hash_algorithm(name)
    assert algorithm is not None
    stix_name = STIX_HASH_NAMES[algorithm]
    blob_head = f'{{"hashes":{{"{stix_name}":"'
    return HASH_LENGTHS[algorithm], algorithm, stix_name, _HASH_HEADS[algorithm], blob_head


_PLAIN_HASHES = {name: _plain_hash(name) for name in PLAIN_HASH_NAMES}
"""Each hash name `PLAIN` reads, as written → its digest length, algorithm, STIX name, payload
head and the head of its file id's JSON (`hex_file_key`'s)."""


_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")


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
