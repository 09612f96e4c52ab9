"""Intel document formats: which one a request carries, and what Tanium extracts from it.

Dispatch order: the `type` header, then the Content-Disposition filename extension, then the
Content-Type (XML is told apart by its root element). Every rejection raises
`IntelFormatError` whose message becomes the 400 reason.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from lxml import etree

from .config import TaniumConfig
from .formats import IntelFormatError, ParsedIntel, Upload, digest
from .signals import SignalSyntaxError, compile_signal

SIGNAL_PLATFORMS = ("windows", "linux", "mac")
TYPE_HEADER = {
    "stix": "stix",
    "openioc": "openioc",
    "ioc": "openioc",
    "yara": "yara",
    "tanium-signal": "tanium-signal",
    "signal": "tanium-signal",
}
EXTENSIONS = {
    ".stix": "stix",
    ".ioc": "openioc",
    ".xml": "xml",
    ".yara": "yara",
    ".yar": "yara",
    ".json": "tanium-signal",
}
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_SDV_LOCK = threading.Lock()


def parse_content_disposition(value: str | None) -> str | None:
    """The filename of `attachment; filename=x`, `filename="x"`, `filename = x`, `filename*=`."""
    if not value:
        return None
    match = re.search(r"filename\*\s*=\s*(?:[\w-]*'[\w-]*')?([^;]+)", value, re.IGNORECASE)
    if match:
        return unquote(match.group(1).strip().strip('"')) or None
    match = re.search(r'filename\s*=\s*("([^"]*)"|[^;]*)', value, re.IGNORECASE)
    if not match:
        return None
    name = match.group(2) if match.group(2) is not None else match.group(1)
    return name.strip() or None


def detect_type(upload: Upload) -> str:
    """One of `stix`, `openioc`, `yara`, `tanium-signal`, or `xml` (decided by the root)."""
    if upload.type_header:
        kind = TYPE_HEADER.get(upload.type_header.strip().lower())
        if kind is None:
            raise IntelFormatError(f"unsupported intel type {upload.type_header!r}")
        return kind
    if upload.filename:
        ext = PurePosixPath(upload.filename).suffix.lower()
        if ext in EXTENSIONS:
            return EXTENSIONS[ext]
    media = upload.media_type or ""
    if media == "application/json" or media.endswith("+json"):
        return "tanium-signal"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    head = upload.body.lstrip()[:1]
    return {b"<": "xml", b"{": "tanium-signal"}.get(head, "yara")


def parse_upload(upload: Upload, config: TaniumConfig) -> ParsedIntel:
    kind = detect_type(upload)
    if kind == "tanium-signal":
        return parse_signal(upload.body, config)
    if kind == "yara":
        return parse_yara(_normalized(upload, config, xml=False), config)
    root = _parse_xml(upload.body)
    if config.intel_content_normalization != "none":
        upload = _normalized(upload, config, xml=True)
        root = _parse_xml(upload.body)
    local = etree.QName(root).localname
    if kind == "xml":
        kind = {"STIX_Package": "stix", "ioc": "openioc", "OpenIOC": "openioc"}.get(local, "")
        if not kind:
            raise IntelFormatError(f"unrecognized XML document: root element <{local}>")
    if kind == "stix":
        return _parse_stix(root, upload, config)
    if config.openioc_strict:
        _check_openioc_fields(root)
    return _parse_openioc(root, upload)


def _normalized(upload: Upload, config: TaniumConfig, *, xml: bool) -> Upload:
    """The body as the server stores it (switch `intel_content_normalization`)."""
    mode = config.intel_content_normalization
    if mode == "none":
        return upload
    if mode == "xml" and xml:
        root = _parse_xml(upload.body)
        body: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    else:
        lines = upload.body.replace(b"\r\n", b"\n").split(b"\n")
        body = b"\n".join(line.rstrip() for line in lines).rstrip()
    return replace(upload, body=body)


def _check_openioc_fields(root: Any) -> None:
    """`openioc_strict`: what every public OpenIOC sample (and quick-add's output) carries."""
    if etree.QName(root).localname != "ioc":
        return
    if not root.get("last-modified"):
        raise IntelFormatError("OpenIOC: the root element has no 'last-modified' attribute")
    if root.find("{*}authored_date") is None:
        raise IntelFormatError("OpenIOC: the document has no <authored_date>")


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _stem(filename: str | None) -> str:
    return PurePosixPath(filename).stem if filename else ""


def _parse_xml(body: bytes) -> Any:
    if not body.strip():
        raise IntelFormatError("malformed XML: empty document")
    try:
        return etree.fromstring(body, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise IntelFormatError(f"malformed XML: {exc}") from None


def _first_text(root: Any, path: str) -> str | None:
    found = root.find(path)
    if found is None:
        return None
    text = "".join(found.itertext()).strip()
    return text or None


def _parse_openioc(root: Any, upload: Upload) -> ParsedIntel:
    local = etree.QName(root).localname
    if local not in ("ioc", "OpenIOC"):
        raise IntelFormatError(f"not an OpenIOC document: root element <{local}>")
    md5, size = digest(upload.body)
    name = _first_text(root, ".//{*}short_description") or upload.name or _stem(upload.filename)
    return ParsedIntel(
        type="openioc",
        name=name,
        description=_first_text(root, ".//{*}description") or upload.description or "",
        intrinsic_id=root.get("id"),
        contents=_text(upload.body),
        md5=md5,
        size=size,
        is_schema_valid=root.find(".//{*}definition") is not None
        or root.find(".//{*}criteria") is not None,
    )


def stix_schema_valid(root: Any) -> bool:
    """Validation against the bundled official STIX 1.x XSDs (the `sdv` package)."""
    import sdv

    try:
        with _SDV_LOCK:
            return bool(sdv.validate_xml(etree.ElementTree(root)).is_valid)
    except Exception:  # sdv raises for unknown versions, missing version, bad schemas...
        return False


def _parse_stix(root: Any, upload: Upload, config: TaniumConfig) -> ParsedIntel:
    local = etree.QName(root).localname
    if local != "STIX_Package":
        raise IntelFormatError(f"not a STIX 1.x document: root element <{local}>")
    indicator = root.find(".//{*}Indicator")
    title = _first_text(indicator, "{*}Title") if indicator is not None else None
    ind_desc = _first_text(indicator, "{*}Description") if indicator is not None else None
    name = (
        title
        or _first_text(root, "{*}STIX_Header/{*}Title")
        or upload.name
        or _stem(upload.filename)
        or root.get("id")
        or ""
    )
    description = (
        ind_desc or _first_text(root, "{*}STIX_Header/{*}Description") or upload.description or ""
    )
    md5, size = digest(upload.body)
    return ParsedIntel(
        type="stix",
        name=name,
        description=description,
        intrinsic_id=root.get("id"),
        contents=_text(upload.body),
        md5=md5,
        size=size,
        is_schema_valid=stix_schema_valid(root) if config.stix_schema_validation else True,
    )


# Tanium runs YARA 4.3 with these modules (tanium-api.md §8.2); yara-python may lack some.
TANIUM_YARA_MODULES = frozenset(
    {"pe", "elf", "dotnet", "hash", "cuckoo", "math", "magic", "macho", "dex", "string", "time"}
)
YARA_EXTERNALS = ("filename", "filepath", "extension", "filetype", "md5", "owner", "fullpath")


def _module_missing_locally(text: str, message: str) -> bool:
    import yara

    local = set(getattr(yara, "modules", ()))
    imported = set(re.findall(r'^\s*import\s+"(\w+)"', text, flags=re.MULTILINE))
    missing = (imported & TANIUM_YARA_MODULES) - local
    return bool(missing) and ("invalid field name" in message or "undefined identifier" in message)


def parse_yara(upload: Upload, config: TaniumConfig) -> ParsedIntel:
    text = _text(upload.body)
    if not text.strip():
        raise IntelFormatError("empty YARA document")
    valid = True
    if config.yara_validation != "off":
        import yara

        externals = dict.fromkeys(YARA_EXTERNALS, "") if config.yara_externals == "define" else {}
        try:
            yara.compile(source=text, externals=externals)
        except yara.Error as exc:
            if _module_missing_locally(text, str(exc)):
                pass  # Tanium's engine has this module; ours does not: accept, as Tanium would
            elif config.yara_validation == "reject":
                raise IntelFormatError(f"invalid YARA rule: {exc}") from None
            valid = False
    rule = re.search(r"\brule\s+([A-Za-z_]\w*)", text)
    name = upload.name or _stem(upload.filename) or (rule.group(1) if rule else "")
    md5, size = digest(upload.body)
    return ParsedIntel(
        type="yara",
        name=name,
        description=upload.description or "",
        intrinsic_id=upload.filename if config.yara_intrinsic_id == "filename" else None,
        contents=text,
        md5=md5,
        size=size,
        is_schema_valid=valid,
    )


def parse_signal(body: bytes, config: TaniumConfig) -> ParsedIntel:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntelFormatError(f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise IntelFormatError("a Tanium Signal must be a JSON object")
    name, contents = doc.get("name"), doc.get("contents")
    if not isinstance(name, str) or not name.strip():
        raise IntelFormatError("signal 'name' is required")
    if not isinstance(contents, str) or not contents.strip():
        raise IntelFormatError("signal 'contents' is required")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise IntelFormatError("signal 'description' must be a string")
    version = doc.get("syntax_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise IntelFormatError("signal 'syntax_version' must be an integer")
    try:
        compiled = compile_signal(contents, version)
    except SignalSyntaxError as exc:
        raise IntelFormatError(f"invalid signal syntax: {exc}") from None
    stored = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    md5, size = digest(stored)
    intrinsic = doc.get("id")
    return ParsedIntel(
        type="tanium-signal",
        name=name,
        description=description,
        intrinsic_id=None if intrinsic is None else str(intrinsic),
        contents=stored,
        md5=md5,
        size=size,
        platforms=_platforms(doc.get("platforms")),
        mitre_attack=_mitre(doc.get("mitreAttack"))
        if config.signal_mitre_attack == "accept"
        else None,
        compiled=compiled,
    )


def _platforms(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise IntelFormatError("signal 'platforms' must be a list of strings")
    unknown = [p for p in value if p not in SIGNAL_PLATFORMS]
    if unknown:
        raise IntelFormatError(
            f"unknown platform(s) {', '.join(unknown)} (expected: {', '.join(SIGNAL_PLATFORMS)})"
        )
    return list(value)


def _mitre(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    techniques = value.get("techniques") if isinstance(value, dict) else None
    if not isinstance(techniques, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) for t in techniques
    ):
        raise IntelFormatError("signal 'mitreAttack' must be {techniques: [{id, name}]}")
    return dict(value)
