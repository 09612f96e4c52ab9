"""Migration from OpenCTI's Tanium connector: its documents that hold only what octi-tanium
now holds are deleted (reason `migrated`), after ours are created. Pure.

`Settings.adopt.fromSources` names the connector's intel sources; the reader brings their
documents with content (`ActualState.adoptable`). A document matches a desired item when
- OpenIOC / STIX: every value it holds (the text of its `Content` / `Value` elements, compared
  case-insensitively) is a value of a desired OpenIOC document (the connector's quick-add
  documents hold one value, or a few);
- YARA: its rule text is a desired YARA rule's (line endings and trailing blanks aside);
- Tanium Signal: its expression is a desired signal's.
Anything else is never touched. The deletes go through the same guards (deletion budget,
complete source) as every other delete, and the executor runs deletes after the creates,
holding a migrated delete back when the create of its replacement failed.
"""

from __future__ import annotations

import json
import re

from controller.core.desired import DesiredState
from controller.core.diff.common import delete_item
from controller.core.model import ActualIntel, ActualState, DesiredIntel, Key
from controller.core.plan import CopyKey, PlanItem
from controller.core.reasons import Reason

_VALUES = re.compile(r"<(?:[\w-]+:)?(?:Content|Value)\b[^>]*>([^<]+)</", re.IGNORECASE)


def xml_values(content: str) -> set[str]:
    """The indicator values of an OpenIOC or STIX 1.x document, lower-cased."""
    return {v.strip().lower() for v in _VALUES.findall(content) if v.strip()}


def _rule_text(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def _expression(content: str) -> str | None:
    try:
        doc = json.loads(content)
    except ValueError:
        return None
    found = doc.get("contents") if isinstance(doc, dict) else None
    return found.strip() if isinstance(found, str) else None


class _Desired:
    """What a connector document may be matched against."""

    def __init__(self, desired: DesiredState) -> None:
        self.values: dict[str, Key] = {}
        self.rules: dict[str, Key] = {}
        self.signals: dict[str, Key] = {}
        for key, want in sorted(desired.intel.items()):
            self._add(key, want)

    def _add(self, key: Key, want: DesiredIntel) -> None:
        if want.intel_type == "openioc":
            for value in xml_values(want.content):
                self.values.setdefault(value, key)
        elif want.intel_type == "yara":
            self.rules.setdefault(_rule_text(want.content), key)
        elif want.intel_type == "tanium-signal":
            expression = _expression(want.content)
            if expression:
                self.signals.setdefault(expression, key)

    def match(self, doc: ActualIntel) -> Key | None:
        content = doc.content or ""
        if not content.strip():
            return None
        if doc.intel_type == "yara":
            return self.rules.get(_rule_text(content))
        if doc.intel_type == "tanium-signal":
            expression = _expression(content)
            return self.signals.get(expression) if expression else None
        values = xml_values(content)
        if not values or not all(v in self.values for v in values):
            return None
        return self.values[min(values)]


def migrations(desired: DesiredState, actual: ActualState) -> list[PlanItem]:
    """The connector's documents to delete now that octi-tanium holds what they hold."""
    if not actual.adoptable:
        return []
    index = _Desired(desired)
    out = []
    for doc in actual.adoptable:
        key = index.match(doc)
        if key is not None:
            out.append(
                delete_item(CopyKey(key, doc.id), "intel", doc.id, doc.name, Reason.MIGRATED)
            )
    return out
