"""Label sets: compared case-insensitively, rendered sorted, one spelling per label."""

from __future__ import annotations

from collections.abc import Iterable

LABEL_LIMIT = 100
"""Longer labels are cut (Tanium label names are short; OpenCTI's are too, in practice)."""


def label_key(name: str) -> str:
    """Labels compare case-insensitively, as OpenCTI does (`toLowerCase`, not `casefold`:
    'Straße' and 'STRASSE' are different labels there)."""
    return name.strip().lower()


def clean_label(name: str) -> str:
    """One printable line of at most LABEL_LIMIT characters (it travels in JSON bodies)."""
    from controller.render.text import clean

    return clean(name, LABEL_LIMIT)


def merge_labels(names: Iterable[str]) -> tuple[str, ...]:
    """Unique case-insensitively (the lexicographically smallest spelling wins), sorted."""
    chosen: dict[str, str] = {}
    for raw in names:
        name = clean_label(raw)
        if not name:
            continue
        key = label_key(name)
        if key not in chosen or name < chosen[key]:
            chosen[key] = name
    return tuple(sorted(chosen.values(), key=lambda n: (label_key(n), n)))
