"""The one content checker: a verdict per YARA rule, Tanium Signal or STIX pattern.

`validate` (for intel held in Git, adding file:line:col) and `plan` (for intel from OpenCTI or
Git, turning an error into a skipped item with reason `invalid-content`) both decide from
these verdicts, so content that passes `validate` is never dropped by `plan` as invalid, and
content `plan` would drop fails `validate`. Pure: no I/O.

- YARA (`yara_rules`): compiled with yara-python as Tanium compiles it; see that module for
  modules Tanium has and the local engine lacks, and external variables.
- Tanium Signals (`signal`): the expression grammar; a JSON signal document is unpacked.
- STIX patterns: the stix2-patterns grammar and validator (2.1). Whether a valid pattern can
  be rendered faithfully as OpenIOC is the renderer's question, not a verdict on the content.
"""

from __future__ import annotations

from typing import Literal

from controller.render.check.signal import check_signal
from controller.render.check.verdict import Problem, Verdict
from controller.render.check.yara_rules import check_yara, prefetch_yara
from controller.render.stix_pattern import PatternError, parse_pattern

ContentType = Literal["yara", "tanium-signal", "stix"]


def check_stix(pattern: str) -> Verdict:
    """A STIX 2.1 pattern, with the validator's messages (the parse is cached for rendering)."""
    try:
        parse_pattern(pattern)
    except PatternError as exc:
        return Verdict((Problem("error", str(exc)),))
    return Verdict()


def check_content(content_type: ContentType, text: str) -> Verdict:
    if content_type == "yara":
        return check_yara(text)
    if content_type == "tanium-signal":
        return check_signal(text)
    return check_stix(text)


__all__ = [
    "ContentType",
    "Problem",
    "Verdict",
    "check_content",
    "check_signal",
    "check_stix",
    "check_yara",
    "prefetch_yara",
]
