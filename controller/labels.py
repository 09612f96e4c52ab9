"""Label sets: compared case-insensitively, rendered sorted, one spelling per label."""

from __future__ import annotations

from collections.abc import Iterable


def label_key(name: str) -> str:
    return name.strip().casefold()


def merge_labels(names: Iterable[str]) -> tuple[str, ...]:
    """Unique case-insensitively (the lexicographically smallest spelling wins), sorted."""
    chosen: dict[str, str] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        key = label_key(name)
        if key not in chosen or name < chosen[key]:
            chosen[key] = name
    return tuple(sorted(chosen.values(), key=lambda n: (label_key(n), n)))
