"""Canonical forms of atomic values and hashes, and the STIX ids derived from them.

Canonicalization is idempotent: `canonical_value(t, canonical_value(t, v))` equals
`canonical_value(t, v)`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import uuid
from collections.abc import Mapping
from json.encoder import encode_basestring as _string  # what json.dumps uses (ensure_ascii=False)
from urllib.parse import urlsplit, urlunsplit

import idna

from controller.core.model import Key
from controller.render.text import printable

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# OpenCTI entity types and STIX types → the STIX type of the value's observable.
VALUE_TYPES = {
    "ipv4-addr": "ipv4-addr",
    "ipv6-addr": "ipv6-addr",
    "domain-name": "domain-name",
    "hostname": "hostname",
    "x-opencti-hostname": "hostname",
    "url": "url",
}

HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
STIX_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}
STRENGTH = ("sha256", "sha1", "md5")
_HEX = re.compile(r"[0-9a-f]+")
"""Lower-case hex digits, used with `fullmatch` (`$` would also accept a trailing newline)."""
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
"""A DNS label (with `fullmatch`: `$` would also accept a trailing newline). No `*`: a
wildcard would be a literal character in an OpenIOC `is` term."""


def stix_type(entity_type: str) -> str | None:
    return VALUE_TYPES.get(entity_type.strip().lower())


def hash_algorithm(name: str) -> str | None:
    """`SHA-256`, `'SHA256'`, `sha_256`, `sha-256` → `sha256`; `md5`, `sha1`, or None."""
    known = _SPELLINGS.get(name)  # the usual spellings, without a regex substitution
    if known is not None:
        return known
    flat = _NOT_ALNUM.sub("", name.lower())
    return flat if flat in HASH_LENGTHS else None


_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_SPELLINGS = {
    spelling: algorithm
    for algorithm, stix in (("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256"))
    for name in (algorithm, stix, stix.replace("-", ""), stix.lower())
    for spelling in (name, f"'{name}'")
}
"""How hash names are usually written (STIX's, quoted or not, and ours) → the algorithm."""


def hash_problem(algorithm: str, value: str) -> str | None:
    """Why `value` is not a valid `algorithm` hash, or None. Strict: a padded or quoted value
    is refused, not repaired (what is checked is exactly what is rendered)."""
    text = value.lower()
    expected = HASH_LENGTHS[algorithm]
    if not _HEX.fullmatch(text) or len(text) != expected:
        return f"{STIX_HASH_NAMES[algorithm]} value '{value}' is not {expected} hex digits"
    return None


def canonical_hashes(hashes: Mapping[str, str]) -> dict[str, str]:
    """`{"md5"|"sha1"|"sha256": lower-case hex}`; other or malformed hashes are left out."""
    out: dict[str, str] = {}
    for name, value in hashes.items():
        algorithm = hash_algorithm(name)
        if algorithm is None or not isinstance(value, str):
            continue
        if hash_problem(algorithm, value) is None:
            out[algorithm] = value.lower()
    return dict(sorted(out.items()))


def strongest(hashes: Mapping[str, str]) -> tuple[str, str]:
    for algorithm in STRENGTH:
        if algorithm in hashes:
            return algorithm, hashes[algorithm]
    raise ValueError("no md5, sha1 or sha256 hash")


_LABEL_TEXT = r"(?!-)[a-z0-9_-]{1,63}+(?<!-)"
_PLAIN_DOMAIN = re.compile(rf"(?:{_LABEL_TEXT}\.)*+{_LABEL_TEXT}")
"""A domain already in canonical form (lower-case ASCII labels, no trailing dot): the common
case, answered by one match in C (`tests/render/test_canonical_fast_paths.py`). Each label is
`_LABEL`, written so that the engine never backtracks (twice as fast): a label's characters
taken possessively (`.` is not one of them, so giving some back could never match), and its
first and last checked by looking around rather than by a separate class."""


def canonical_domain(value: str) -> str | None:
    if len(value) <= 253 and _PLAIN_DOMAIN.fullmatch(value):
        return value
    return _canonical_domain(value)


def _canonical_domain(value: str) -> str | None:
    text = value.strip().rstrip(".")
    if not text or len(text) > 253:
        return None
    labels = []
    for label in text.split("."):
        if label.isascii():
            label = label.lower()
        else:
            try:
                label = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError:
                return None
        if not _LABEL.fullmatch(label):
            return None
        labels.append(label)
    out = ".".join(labels)
    return out if len(out) <= 253 else None


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_PLAIN_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
"""A dotted quad already in canonical form (no leading zeros, no prefix): the common case,
answered without `ipaddress` (each literal is canonicalised at least twice per pass)."""


def canonical_ip(value: str, version: int) -> str | None:
    if version == 4 and _PLAIN_IPV4.fullmatch(value):
        return value
    if "%" in value:  # a scoped (link-local) address names an interface, not a host
        return None
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
    if network.version != version:
        return None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


_SIMPLE_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*)://([A-Za-z0-9_.-]+)"
    r"((?:/[A-Za-z0-9!$&'()*+,;=:@%/._~-]*)?(?:\?[A-Za-z0-9!$&'()*+,;=:@%/?._~-]+)?)"
)
"""`scheme://host/path?query` in printable ASCII, without user, port, fragment or an empty
query: the common case. `urlsplit` + `urlunsplit` give back exactly its parts (the scheme
and host lower-cased), so it is answered without them (`tests/render/test_canonical_fast_paths.py`
compares)."""


def canonical_url(value: str) -> str | None:
    text = value.strip()
    simple = _SIMPLE_URL.fullmatch(text)
    if simple is not None:
        scheme, hostname, path = simple.groups()
        host = canonical_domain(hostname.lower())
        return None if host is None else f"{scheme.lower()}://{host}{path}"
    return _canonical_url(text)


def _canonical_url(value: str) -> str | None:
    text = value.strip()
    if not text or any(ch.isspace() for ch in text) or not printable(text):
        return None
    if "://" not in text:
        bare, sep, rest = text.partition("/")
        domain = canonical_domain(bare) if ":" not in bare else None
        return None if domain is None else domain + sep + rest
    try:
        parts = urlsplit(text)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not parts.scheme or not hostname:
        return None
    host: str | None
    if ":" in hostname:
        address = canonical_ip(hostname, 6)
        host = None if address is None or "/" in address else f"[{address}]"
    else:
        host = canonical_domain(hostname)
    if host is None:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def canonical_value(entity_type: str, value: str) -> str | None:
    """The canonical form of an atomic observable value, or None when it is not valid."""
    kind = stix_type(entity_type)
    if kind == "ipv4-addr":
        return canonical_ip(value, 4)
    if kind == "ipv6-addr":
        return canonical_ip(value, 6)
    if kind in ("domain-name", "hostname"):
        return canonical_domain(value)
    if kind == "url":
        return canonical_url(value)
    return None


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))` without building UUID objects (5x faster; several
    per object on every pass). A property test compares the two. The version and variant
    bits are set on the hex text: digit 12 is the version (5), the top two bits of digit 16
    the RFC 4122 variant (`10`), so that digit is one of `89ab`."""
    if namespace is SCO_NAMESPACE:
        return sco_uuid(name)
    h = hashlib.sha1(namespace.bytes + name.encode("utf-8")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def sco_uuid(name: str) -> str:
    """`uuid5_text(SCO_NAMESPACE, name)`, the digest continued from the namespace's own (a
    copy of it: not hashing the namespace again, not concatenating bytes)."""
    digest = _SCO_DIGEST.copy()
    digest.update(name.encode("utf-8"))
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_SCO_DIGEST = hashlib.sha1(SCO_NAMESPACE.bytes)  # never updated: only copied
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def sco_id(kind: str, contributing: Mapping[str, object]) -> Key:
    """The STIX 2.1 deterministic id of an observable from its id-contributing properties."""
    blob = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Key(f"{kind}--{uuid5_text(SCO_NAMESPACE, blob)}")


def value_key(entity_type: str, canonical: str) -> Key:
    """`sco_id(kind, {"value": canonical})`, its JSON written out directly (with `json`'s own
    string encoder; a property test compares the two)."""
    kind = stix_type(entity_type) or entity_type.lower()
    return json_value_key(kind, _string(canonical))


def json_value_key(kind: str, json_value: str) -> Key:
    """`value_key(kind, canonical)` for a STIX `kind` (`ipv4-addr`, `url`, …) from the
    canonical value already written as a JSON string (`json`'s string encoder), for a renderer
    that needs that string anyway."""
    return Key(kind + "--" + sco_uuid('{"value":' + json_value + "}"))


def file_key(hashes: Mapping[str, str]) -> Key:
    algorithm, value = strongest(hashes)
    if _HEX.fullmatch(value):  # the JSON of a hex digest needs no escaping: skip json.dumps
        return hex_file_key(algorithm, value)
    return sco_id("file", {"hashes": {STIX_HASH_NAMES[algorithm]: value}})


def hex_file_key(algorithm: str, hex_value: str) -> Key:
    """`file_key({algorithm: hex_value})` for a lower-case hex `hex_value` (its JSON needs no
    escaping, so it is written out directly)."""
    blob = f'{{"hashes":{{"{STIX_HASH_NAMES[algorithm]}":"{hex_value}"}}}}'
    return Key("file--" + sco_uuid(blob))
