"""What moved between two versions of one document or entry, field by field. Pure.

Content is compared parsed, not as text: a Tanium Signal as JSON, OpenIOC and STIX as XML
trees, a YARA rule as lines, so a reviewer reads `content.ioc.definition.Indicator.
IndicatorItem[1].Content.#text: 10.0.0.1 → 10.0.0.2` rather than two md5s. DeepDiff does the
nested comparison (~70 µs and up a call): callers use it only for objects already known to
differ, so the no-change path never pays for it.

`document_changes` takes two plain mappings, so it also describes a plan's `before` against
a fresh read of the same object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from deepdiff import DeepDiff
from lxml import etree

from controller.core.plan import Change, PlanItem

SETS = frozenset({"labels", "platforms"})
"""Fields whose order carries no meaning: compared as sets, shown whole."""

_XML = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
_XML_TYPES = frozenset({"openioc", "stix"})


def document_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, intel_type: str | None = None
) -> list[Change]:
    """The fields that differ between `before` and `after`, in field order. `content` is
    compared parsed when `intel_type` says how to read it (`openioc`, `stix`, `yara`,
    `tanium-signal`); nested values (dicts, lists) path by path; `labels` and `platforms` as
    sets."""
    out: list[Change] = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in SETS and _same_set(old, new):
            continue
        if name == "content" and intel_type and isinstance(old, str) and isinstance(new, str):
            out.extend(content_changes(intel_type, old, new))
        elif name not in SETS and isinstance(old, dict | list) and isinstance(new, dict | list):
            out.extend(nested_changes(old, new, name))
        else:
            out.append(Change(field=name, before=old, after=new))
    return out


def content_changes(
    intel_type: str, before: str, after: str, prefix: str = "content"
) -> list[Change]:
    """What moved between two versions of a document's content, compared parsed. Content
    that does not parse is shown whole."""
    try:
        old, new = parse_content(intel_type, before), parse_content(intel_type, after)
    except (ValueError, etree.XMLSyntaxError):
        return [Change(field=prefix, before=before, after=after)]
    if old is None or new is None:
        return [Change(field=prefix, before=before, after=after)]
    if intel_type == "yara":
        return _line_changes(old, new, prefix)
    return nested_changes(old, new, prefix)


def parse_content(intel_type: str, text: str) -> Any:
    """A document's content as a nested structure DeepDiff can walk (None: not a known type).

    XML elements become dicts: `@name` for attributes, `#text` for text, and one list per
    child tag, in document order (namespaces dropped from names)."""
    if intel_type == "tanium-signal":
        return json.loads(text)
    if intel_type in _XML_TYPES:
        root = etree.fromstring(text.encode("utf-8"), _XML)
        return {_local(root.tag): _element(root)}
    if intel_type == "yara":
        return text.splitlines()
    return None


def nested_changes(before: Any, after: Any, prefix: str) -> list[Change]:
    """Path-by-path changes between two nested values. A list index is shown only where a
    list holds more than one element on either side (`IndicatorItem[1]`, not `ioc[0]`)."""
    diff = DeepDiff(before, after, view="tree", verbose_level=2)
    out: list[Change] = []
    for report in sorted(diff):
        for level in diff[report]:
            removed = report.endswith("_removed")
            parts = level.path(output_format="list", use_t2=not removed)
            path = _path(prefix, parts, before, after)
            out.append(Change(field=path, before=_value(level.t1), after=_value(level.t2)))
    out.sort(key=lambda c: c.field)
    return out


def _line_changes(before: list[str], after: list[str], prefix: str) -> list[Change]:
    """Lines of a rule removed, added or changed, numbered from 1 as an editor shows them
    (the new version's number; a removed line's number in the old one)."""
    diff = DeepDiff(before, after, view="tree")
    out: list[tuple[int, Change]] = []
    for report in diff:
        for level in diff[report]:
            removed = report.endswith("_removed")
            line = level.path(output_format="list", use_t2=not removed)[0] + 1
            change = Change(
                field=f"{prefix} line {line}", before=_value(level.t1), after=_value(level.t2)
            )
            out.append((line, change))
    return [c for _, c in sorted(out, key=lambda lc: (lc[0], lc[1].before is not None))]


def _same_set(old: Any, new: Any) -> bool:
    return (
        isinstance(old, list | tuple)
        and isinstance(new, list | tuple)
        and set(map(str, old)) == set(map(str, new))
    )


def _value(value: Any) -> Any:
    """DeepDiff's 'not present' marker as None."""
    return value if isinstance(value, str | int | float | bool | dict | list | type(None)) else None


def _path(prefix: str, parts: list[Any], before: Any, after: Any) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            if _longest(before, after) > 1:
                text += f"[{part}]"
        else:
            text += f".{part}"
        before = _step(before, part)
        after = _step(after, part)
    return text


def _longest(*lists: Any) -> int:
    return max((len(x) for x in lists if isinstance(x, list)), default=0)


def _step(value: Any, part: Any) -> Any:
    try:
        return value[part]
    except (KeyError, IndexError, TypeError):
        return None


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _element(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {f"@{_local(k)}": v for k, v in sorted(element.attrib.items())}
    text = (element.text or "").strip()
    if text:
        out["#text"] = text
    for child in element:
        if not isinstance(child.tag, str):  # processing instructions
            continue
        out.setdefault(_local(child.tag), []).append(_element(child))
    return out


def needs_body(item: PlanItem) -> bool:
    """An intel update whose content moved but whose changes show only two md5s: the body
    of the Tanium document would let the plan say what moved inside it."""
    return (
        item.kind == "intel"
        and item.action == "update"
        and item.tanium_id is not None
        and any(c.field == "content" and _is_md5(c.before) for c in item.changes)
    )


def with_body(item: PlanItem, body: str) -> PlanItem:
    """`item` with its `content` change described inside the document (`body`: what Tanium
    holds now), compared parsed against the content the plan will write."""
    want = item.desired or {}
    after, intel_type = want.get("content"), want.get("intel_type")
    if not isinstance(after, str) or not isinstance(intel_type, str):
        return item
    others = [c for c in item.changes if c.field != "content"]
    return replace(item, changes=(*content_changes(intel_type, body, after), *others))


def _is_md5(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
    )
