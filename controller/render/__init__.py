"""Intel content per type: OpenIOC (from STIX patterns and observables), YARA, Tanium
Signals, and Reputation blocklist entries. Pure: no I/O, no clock, no environment."""

from controller.render.canonical import canonical_hashes, canonical_value
from controller.render.convert import convert, prefetch
from controller.render.intel import render_blocklist, render_intel
from controller.render.types import Conversion, FileCandidate, IntelCandidate

__all__ = [
    "Conversion",
    "FileCandidate",
    "IntelCandidate",
    "canonical_hashes",
    "canonical_value",
    "convert",
    "prefetch",
    "render_blocklist",
    "render_intel",
]
