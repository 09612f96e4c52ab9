"""OpenIOC 1.0: the term tree (the candidate payload) and the XML document Tanium receives.

The payload is canonical JSON of a tree: nodes `{"op": "AND"|"OR", "items": [...]}` and terms
`{"term": "FileItem/Md5sum", "type": "md5", "condition": "is", "value": "…"}`. The XML is
built from that tree alone, so equal payloads give equal bytes. Element ids are uuid5 of the
key and the node's position. `last-modified` and `authored_date`, which every public OpenIOC
sample and Tanium's quick-add output carry, hold the fixed `AUTHORED` instant: never the
clock, so the bytes (and their md5) change only when the content does.

The document is written as text (what lxml's pretty printer gives, byte for byte: a property
test compares the two); lxml builds it only when a string holds a character XML cannot carry,
so that such content keeps failing exactly as before (lxml's ValueError). Building the tree
with lxml cost ~35 % of building the desired state.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring as _string  # what json.dumps uses (ensure_ascii=False)
from typing import Any

from lxml import etree

from controller.render.canonical import SCO_NAMESPACE, uuid5_text

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
    """The canonical JSON of the tree (sorted keys, compact). A single term — most documents —
    is written out directly in that form (a property test compares it with `json.dumps`)."""
    if tree.keys() == _TERM_KEYS:
        search, content_type, value = tree["term"], tree["type"], tree["value"]
        condition = tree["condition"]
        if type(search) is type(content_type) is type(value) is type(condition) is str:
            head = term_payload_head(search, content_type, condition)
            return head + _string(value) + TERM_PAYLOAD_TAIL
    return json.dumps(root(tree), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def term_payload_head(search: str, content_type: str, condition: str = "is") -> str:
    """`payload_of(term(search, content_type, value, condition))` is this head, the value as
    a JSON string, and `TERM_PAYLOAD_TAIL`: a renderer whose term is fixed makes the head
    once."""
    return (
        f'{{"items":[{{"condition":{_string(condition)},'
        f'"term":{_string(search)},"type":{_string(content_type)},"value":'
    )


TERM_PAYLOAD_TAIL = '}],"op":"OR"}'
_TERM_KEYS = {"term", "type", "condition", "value"}


def terms_of(tree: Tree) -> list[Tree]:
    if "op" in tree:
        return [t for item in tree["items"] for t in terms_of(item)]
    return [tree]


def _id(key: str, path: str) -> str:
    return uuid5_text(SCO_NAMESPACE, f"{key}#{path}")


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
    tree = root(json.loads(payload))
    if all(_XML_SAFE.fullmatch(text) for text in (key, name, description, *_strings(tree))):
        return _render_text(key, name, description, tree)
    return render_openioc_lxml(key, name, description, payload)


def _strings(tree: Tree) -> list[str]:
    if "op" in tree:
        return [tree["op"], *(s for item in tree["items"] for s in _strings(item))]
    return [tree["term"], tree["type"], tree["condition"], tree["value"]]


_XML_SAFE = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*")
"""Text lxml serialises without complaint (anything else goes through lxml, which refuses)."""
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\t": "&#9;",
        "\r": "&#13;",
    }
)


def _text(value: str) -> str:
    return value.translate(_TEXT_ESCAPES)


def _attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES)


def _element(tag: str, text: str, indent: str) -> str:
    return f"{indent}<{tag}>{_text(text)}</{tag}>\n"


def _render_text(key: str, name: str, description: str, tree: Tree) -> str:
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<ioc xmlns="{IOC_NS}" xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}" id="{_attr(key)}" '
        f'last-modified="{AUTHORED}">\n',
        _element("short_description", name, "  "),
        _element("description", description, "  "),
        _element("authored_by", AUTHOR, "  "),
        _element("authored_date", AUTHORED, "  "),
        "  <links/>\n",
        "  <definition>\n",
    ]
    _indicator_text(out, key, tree, "0", "    ")
    out.append("  </definition>\n</ioc>\n")
    return "".join(out)


def _indicator_text(out: list[str], key: str, tree: Tree, path: str, indent: str) -> None:
    items = tree["items"]
    opening = f'{indent}<Indicator id="{_id(key, path)}" operator="{_attr(tree["op"])}"'
    if not items:
        out.append(opening + "/>\n")
        return
    out.append(opening + ">\n")
    inner = indent + "  "
    for index, item in enumerate(items):
        child_path = f"{path}.{index}"
        if "op" in item:
            _indicator_text(out, key, item, child_path, inner)
            continue
        search = _attr(item["term"])
        document = _attr(item["term"].split("/", 1)[0])
        out.append(
            f'{inner}<IndicatorItem id="{_id(key, child_path)}" '
            f'condition="{_attr(item["condition"])}">\n'
            f'{inner}  <Context document="{document}" search="{search}" type="mir"/>\n'
            f'{inner}  <Content type="{_attr(item["type"])}">{_text(item["value"])}</Content>\n'
            f"{inner}</IndicatorItem>\n"
        )
    out.append(f"{indent}</Indicator>\n")


def render_openioc_lxml(key: str, name: str, description: str, payload: str) -> str:
    """The same document built with lxml: the reference the text writer is tested against."""
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
