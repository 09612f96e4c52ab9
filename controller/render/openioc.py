"""OpenIOC 1.0: the term tree (the candidate payload) and the XML document Tanium receives.

The payload is canonical JSON of a tree: nodes `{"op": "AND"|"OR", "items": [...]}` and terms
`{"term": "FileItem/Md5sum", "type": "md5", "condition": "is", "value": "…"}`. The XML is
built with lxml from that tree alone, so equal payloads give equal bytes. Element ids are
uuid5 of the key and the node's position. `last-modified` and `authored_date`, which every
public OpenIOC sample and Tanium's quick-add output carry, hold the fixed `AUTHORED` instant:
never the clock, so the bytes (and their md5) change only when the content does.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from lxml import etree

from controller.render.canonical import SCO_NAMESPACE

IOC_NS = "http://schemas.mandiant.com/2010/ioc"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
AUTHOR = "octi-tanium"
AUTHORED = "2000-01-01T00:00:00"
"""`last-modified` / `authored_date`: a fixed instant (a date from the clock would rewrite every
document on every pass; one from the source objects would change with unrelated edits)."""

Tree = dict[str, Any]


def term(search: str, content_type: str, value: str, condition: str = "is") -> Tree:
    return {"term": search, "type": content_type, "condition": condition, "value": value}


def node(op: str, items: list[Tree]) -> Tree:
    """An AND/OR node; nested nodes with the same operator are flattened."""
    flat: list[Tree] = []
    for item in items:
        if "op" in item and (item["op"] == op or len(item["items"]) == 1):
            flat.extend(item["items"])
        else:
            flat.append(item)
    return {"op": op, "items": flat}


def root(tree: Tree) -> Tree:
    """The definition's top Indicator: always a node."""
    return tree if "op" in tree else {"op": "OR", "items": [tree]}


def payload_of(tree: Tree) -> str:
    return json.dumps(root(tree), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def terms_of(tree: Tree) -> list[Tree]:
    if "op" in tree:
        return [t for item in tree["items"] for t in terms_of(item)]
    return [tree]


def _id(key: str, path: str) -> str:
    return str(uuid.uuid5(SCO_NAMESPACE, f"{key}#{path}"))


def _indicator(parent: Any, key: str, tree: Tree, path: str) -> None:
    element = etree.SubElement(
        parent, f"{{{IOC_NS}}}Indicator", {"id": _id(key, path), "operator": tree["op"]}
    )
    for index, item in enumerate(tree["items"]):
        child_path = f"{path}.{index}"
        if "op" in item:
            _indicator(element, key, item, child_path)
            continue
        entry = etree.SubElement(
            element,
            f"{{{IOC_NS}}}IndicatorItem",
            {"id": _id(key, child_path), "condition": item["condition"]},
        )
        document = item["term"].split("/", 1)[0]
        etree.SubElement(
            entry,
            f"{{{IOC_NS}}}Context",
            {"document": document, "search": item["term"], "type": "mir"},
        )
        content = etree.SubElement(entry, f"{{{IOC_NS}}}Content", {"type": item["type"]})
        content.text = item["value"]


def render_openioc(key: str, name: str, description: str, payload: str) -> str:
    """The OpenIOC 1.0 document: root `id` = key, `short_description` = name."""
    tree = json.loads(payload)
    ioc = etree.Element(
        f"{{{IOC_NS}}}ioc",
        {"id": key, "last-modified": AUTHORED},
        nsmap={None: IOC_NS, "xsi": XSI_NS, "xsd": XSD_NS},
    )
    for tag, text in (
        ("short_description", name),
        ("description", description),
        ("authored_by", AUTHOR),
        ("authored_date", AUTHORED),
    ):
        etree.SubElement(ioc, f"{{{IOC_NS}}}{tag}").text = text
    etree.SubElement(ioc, f"{{{IOC_NS}}}links")
    definition = etree.SubElement(ioc, f"{{{IOC_NS}}}definition")
    _indicator(definition, key, root(tree), "0")
    body: bytes = etree.tostring(ioc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return body.decode("utf-8")
