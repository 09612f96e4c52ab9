"""Request bodies: an intel document's bytes and headers per type (E3/E4/E5/E7/E8), and the
Reputation upload entries (E16).

| type            | Content-Type               | extra headers                                   |
|-----------------|----------------------------|-------------------------------------------------|
| `openioc`       | `application/xml`          | `type: openioc`, `Content-Disposition` `.ioc`   |
| `stix`          | `application/xml`          | `type: stix`, `Content-Disposition` `.stix`     |
| `yara`          | `application/octet-stream` | `type: yara`, `Content-Disposition`, `name`,    |
|                 |                            | `description`                                   |
| `tanium-signal` | `application/json`         | — (the body is the compact JSON document)       |

Header values must be Latin-1 without control characters. The renderer guarantees it; the
client still checks, and refuses locally (`RejectedError`, nothing sent) rather than send a
malformed request or silently alter a name (which would read back as drift forever).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from controller.core.model import DesiredBlocklist, DesiredIntel
from controller.render.canonical import hash_problem
from controller.tanium.errors import RejectedError

_EXTENSION = {"openioc": ".ioc", "stix": ".stix", "yara": ".yara"}
_CONTENT_TYPE = {
    "openioc": "application/xml",
    "stix": "application/xml",
    "yara": "application/octet-stream",
    "tanium-signal": "application/json",
}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    body: bytes
    headers: dict[str, bytes]


def header_value(field: str, value: str, *, method: str, path: str, name: str) -> bytes:
    """`value` as header bytes (Latin-1, surrounding blanks dropped as HTTP does), or refuse."""
    value = value.strip(" \t")
    bad = _CONTROL.search(value)
    if bad:
        raise RejectedError(
            f"header {field!r} would carry the control character {bad.group()!r} at position "
            f"{bad.start()} (CR/LF split headers); not sent",
            method=method,
            path=path,
            object_name=name,
        )
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise RejectedError(
            f"header {field!r} holds {value[exc.start]!r} at position {exc.start}, which is not "
            "Latin-1 and cannot travel in an HTTP header; not sent",
            method=method,
            path=path,
            object_name=name,
        ) from None


def upload_for(
    doc: DesiredIntel, *, method: str, path: str, intrinsic_id: str | None = None
) -> Upload:
    """The body and headers for creating (or, with `intrinsic_id`, updating) `doc`."""

    def header(field: str, value: str) -> bytes:
        return header_value(field, value, method=method, path=path, name=doc.name)

    headers = {"content-type": _CONTENT_TYPE[doc.intel_type].encode("ascii")}
    if doc.intel_type == "tanium-signal":
        return Upload(doc.content.encode("utf-8"), headers)
    filename = default_filename(doc)
    if doc.intel_type == "yara":
        # §8.4: an update names the file after the current intrinsicId, so it stays the same doc
        filename = intrinsic_id or filename
        headers["name"] = header("name", doc.name)
        headers["description"] = header("description", doc.description)
    headers["type"] = doc.intel_type.encode("ascii")
    headers["content-disposition"] = b"attachment; filename=" + header("filename", filename)
    return Upload(doc.content.encode("utf-8"), headers)


def default_filename(doc: DesiredIntel) -> str:
    return doc.filename or f"{doc.key}{_EXTENSION.get(doc.intel_type, '')}"


def content_intrinsic_id(doc: DesiredIntel) -> str | None:
    """The intrinsic id the document declares: OpenIOC/STIX root `id`, a signal's `id`, the
    YARA filename. None when it declares none (or cannot be parsed; the server will judge)."""
    if doc.intel_type == "yara":
        return default_filename(doc)
    if doc.intel_type == "tanium-signal":
        try:
            value = json.loads(doc.content)
        except ValueError:
            return None
        ident = value.get("id") if isinstance(value, dict) else None
        return str(ident) if ident is not None else None
    try:
        root = ET.fromstring(doc.content.encode("utf-8"))
    except ET.ParseError:
        return None
    return root.get("id")


def check_same_document(
    doc: DesiredIntel, intrinsic_id: str | None, *, method: str, path: str
) -> None:
    """Refuse an OpenIOC/STIX update whose root id differs from the current intrinsicId.

    Tanium then creates a *new* document instead of updating (§8.4), so the PUT would neither
    be an update nor idempotent. The controller must delete and create instead.
    """
    if doc.intel_type not in ("openioc", "stix") or not intrinsic_id:
        return
    declared = content_intrinsic_id(doc)
    if declared is not None and declared != intrinsic_id:
        raise RejectedError(
            f"the document's root id {declared!r} differs from the current intrinsicId "
            f"{intrinsic_id!r}: Tanium would create a new document instead of updating; "
            "delete and create instead. Not sent",
            method=method,
            path=path,
            object_name=doc.name,
        )


# --------------------------------------------------------------------------- blocklist entries


def entry_json(entry: DesiredBlocklist) -> dict[str, str]:
    """One Reputation upload entry: lower-case keys, empty string for an absent hash."""
    return {
        "list": "blacklist",
        "md5": entry.md5.lower(),
        "sha1": entry.sha1.lower(),
        "sha256": entry.sha256.lower(),
        "uploadedHash": entry.uploaded_hash.lower(),
        "notes": entry.notes,
    }


def check_entry(entry: DesiredBlocklist, path: str) -> None:
    """Refuse locally an entry without a hash or with a malformed one (it would fail its chunk)."""
    hashes = {"md5": entry.md5, "sha1": entry.sha1, "sha256": entry.sha256}
    bad = [h for algorithm, h in hashes.items() if h and hash_problem(algorithm, h)]
    if not any(hashes.values()) or bad:
        why = f"malformed hash {bad[0]!r}" if bad else "no hash"
        raise RejectedError(
            f"blocklist entry has {why}; nothing sent",
            method="POST",
            path=path,
            object_name=entry.name,
        )
