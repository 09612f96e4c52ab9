"""Route `TR/intels/quick-add`: builds an OpenIOC document from values; stores nothing.

The reply is `application/xml` (not JSON), as the connectors and the PS uploader read it. The
exact OpenIOC terms Tanium emits are [U]; these are the standard Mandiant ones.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from lxml import etree

from .routing import TR, RouteTable
from .web import Ctx, Reply, bad_request

table = RouteTable()

IOC_NS = "http://schemas.mandiant.com/2010/ioc"
QUICK_ADD_TYPES = {"Network Indicators": "network", "File Hashes": "hashes"}
LEGACY_TYPES = {"ip_or_host": "network", "file_hash": "hashes"}
DEFAULT_DESCRIPTIONS = {
    "hashes": "Known malicious file names.",
    "network": "Known malicious network indicators.",
}
_HASH_TERMS = {32: ("Md5sum", "md5"), 40: ("Sha1sum", "sha1"), 64: ("Sha256sum", "sha256")}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
ALTERNATE_TERMS = {
    "FileItem/Md5sum": "FileItem/FileMd5",
    "FileItem/Sha1sum": "FileItem/FileSha1",
    "FileItem/Sha256sum": "FileItem/FileSha256",
    "Network/DNS": "DnsEntryItem/Host",
    "PortItem/remoteIP": "Network/RemoteIP",
}
"""Switch `quick_add_terms=alternate`: a tenant whose quick-add emits other search terms."""


def _term(kind: str, value: str, alternate: bool = False) -> tuple[str, str, str, str]:
    """(context document, search path, content type, value) of one value."""
    if kind == "hashes":
        term = _HASH_TERMS.get(len(value))
        if term is None or not _HEX.match(value):
            raise bad_request(f"{value!r} is not an MD5, SHA-1 or SHA-256 hash")
        search, content_type, value = f"FileItem/{term[0]}", term[1], value.lower()
    else:
        try:
            ipaddress.ip_address(value)
            search, content_type = "PortItem/remoteIP", "IP"
        except ValueError:
            search, content_type = "Network/DNS", "string"
    if alternate:
        search = ALTERNATE_TERMS[search]
    return search.split("/", 1)[0], search, content_type, value


def openioc(
    name: str,
    description: str,
    kind: str,
    values: list[str],
    exact: bool,
    now: str,
    alternate: bool = False,
) -> bytes:
    """The OpenIOC 1.0 document quick-add answers; raises a 400 for an invalid value."""
    ioc_id = str(uuid.uuid4())
    nsmap: dict[Any, str] = {None: IOC_NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    root = etree.Element(f"{{{IOC_NS}}}ioc", nsmap=nsmap, id=ioc_id, **{"last-modified": now})
    for tag, text in (
        ("short_description", name),
        ("description", description),
        ("authored_by", "Tanium"),
        ("authored_date", now),
    ):
        etree.SubElement(root, f"{{{IOC_NS}}}{tag}").text = text
    etree.SubElement(root, f"{{{IOC_NS}}}links")
    definition = etree.SubElement(root, f"{{{IOC_NS}}}definition")
    indicator = etree.SubElement(
        definition, f"{{{IOC_NS}}}Indicator", operator="OR", id=str(uuid.uuid4())
    )
    for value in values:
        document, search, content_type, content = _term(kind, value, alternate)
        item = etree.SubElement(
            indicator,
            f"{{{IOC_NS}}}IndicatorItem",
            id=str(uuid.uuid4()),
            condition="is" if exact else "contains",
        )
        etree.SubElement(item, f"{{{IOC_NS}}}Context", document=document, search=search, type="mir")
        etree.SubElement(item, f"{{{IOC_NS}}}Content", type=content_type).text = content
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


@table.route(TR + "/intels/quick-add", "POST", access="intel:write")
def quick_add(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    type_name, text = body.get("type"), body.get("text")
    kinds = dict(QUICK_ADD_TYPES)
    if ctx.config.quick_add_legacy_types:
        kinds.update(LEGACY_TYPES)
    kind = kinds.get(type_name) if isinstance(type_name, str) else None
    if kind is None:
        raise bad_request(
            f"unsupported quick-add type {type_name!r} (expected: {', '.join(kinds)})"
        )
    if not isinstance(text, str) or not text.strip():
        raise bad_request("quick-add 'text' must not be empty")
    values = [v.strip() for v in re.split(r"[\n,]", text) if v.strip()]
    name = body.get("name") if isinstance(body.get("name"), str) else None
    description = body.get("description")
    if not isinstance(description, str) or not description:
        description = DEFAULT_DESCRIPTIONS[kind]
    exact = bool(body.get("exact", False))
    alternate = ctx.config.quick_add_terms == "alternate"
    xml = openioc(name or values[-1], description, kind, values, exact, ctx.state.now(), alternate)
    return Reply(None, raw=xml, media_type="application/xml")
