"""StaticIntel (intel kept in Git) → conversions, through the same renderer as OpenCTI data.

A static document is rendered as a synthetic source object keyed `static:<name>`, so YARA
compile checks, signal grammar checks and hash canonicalization are shared, not re-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from controller.core.diagnostics import Diagnostic
from controller.core.model import SourceObject
from controller.policy.located import Located
from controller.policy.models import StaticIntel
from controller.render import convert
from controller.render.types import Conversion, FileCandidate

_PATTERN_TYPES = {"yara": "yara", "tanium-signal": "tanium-signal"}


def static_conversions(static: Sequence[Located]) -> Iterator[tuple[Located, Conversion]]:
    for located in static:
        doc = located.document
        assert isinstance(doc, StaticIntel)
        spec = doc.spec
        key = f"static:{doc.metadata.name}"
        name = spec.name or doc.metadata.name
        if spec.type == "hashes":
            files: list[FileCandidate] = []
            diagnostics: list[Diagnostic] = []
            for digest in _hash_lines(spec.hashes, located.content):
                obj = SourceObject(
                    standard_id=f"{key}/{digest}",
                    entity_type="StixFile",
                    name=name,
                    hashes={_algorithm(digest): digest},
                    labels=spec.labels,
                )
                conversion = convert(obj)
                files.extend(conversion.files)
                diagnostics.extend(conversion.diagnostics)
            yield located, Conversion(files=tuple(files), diagnostics=tuple(diagnostics))
            continue
        obj = SourceObject(
            standard_id=key,
            entity_type="Indicator",
            name=name,
            description=spec.description or doc.metadata.description,
            pattern=located.content or "",
            pattern_type=_PATTERN_TYPES[spec.type],
            platforms=tuple(spec.platforms),
            labels=spec.labels,
        )
        yield located, convert(obj, hash_patterns_to_blocklist=False)


def _hash_lines(hashes: Iterable[str], content: str | None) -> list[str]:
    out = [h.strip() for h in hashes if h.strip()]
    if content:
        for line in content.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return sorted(set(h.lower() for h in out))


def _algorithm(digest: str) -> str:
    return {32: "MD5", 40: "SHA-1", 64: "SHA-256"}.get(len(digest), "unknown")
