"""Tanium Signals: the grammar check (shared with `validate`) and the JSON Tanium receives.

The document is `{"id", "name", "description", "contents", "syntax_version", "platforms"}` in
that key order, serialized compactly with `ensure_ascii=False`: Tanium stores that compact
form and reports the MD5 and size of its UTF-8 bytes (checked on the corpus signal), and the
emulator re-serializes what it receives the same way, so the MD5s agree.
"""

from __future__ import annotations

import json

from controller.policy.signal_check import check_signal

PLATFORMS = {"windows": "windows", "linux": "linux", "macos": "mac", "mac": "mac"}
"""OpenCTI / MITRE ATT&CK platform names (lower-cased) → Tanium's."""


def signal_platforms(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """`Windows` → `windows`, `Linux` → `linux`, `macOS` → `mac`; others dropped; sorted."""
    return tuple(sorted({PLATFORMS[p.lower()] for p in platforms if p.lower() in PLATFORMS}))


def render_signal(
    key: str, name: str, description: str, expression: str, platforms: tuple[str, ...]
) -> str:
    """The compact JSON Tanium stores verbatim (and whose MD5 it reports)."""
    doc = {
        "id": key,
        "name": name,
        "description": description,
        "contents": expression,
        "syntax_version": 1,
        "platforms": list(platforms),
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


__all__ = ["check_signal", "render_signal", "signal_platforms"]
