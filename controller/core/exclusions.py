"""Exclusions (the allowlist): values, CIDR ranges, hashes, OpenCTI ids, labels.

Matching is conservative: an indicator is excluded when any literal in its pattern is an
excluded value or falls in an excluded range — pushing a partial pattern would be worse.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from controller.core.labels import label_key
from controller.core.model import SourceObject
from controller.policy.located import Located
from controller.policy.models import Exclusion
from controller.render.canonical import canonical_domain, canonical_ip, canonical_url

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class ExclusionIndex:
    values: dict[str, str] = field(default_factory=dict)
    networks: list[tuple[Network, str]] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, exclusions: Sequence[Located]) -> ExclusionIndex:
        index = cls()
        for located in exclusions:
            doc = located.document
            assert isinstance(doc, Exclusion)
            why = f"{doc.metadata.name} ({doc.spec.reason})"
            for value in doc.spec.values:
                net = _network(value)
                if net is not None and "/" in value:
                    index.networks.append((net, why))
                else:
                    index.values.setdefault(_canon(value), why)
            for digest in doc.spec.hashes:
                index.hashes.setdefault(digest.strip().lower(), why)
            for ident in doc.spec.ids:
                index.ids.setdefault(ident.strip(), why)
            for label in doc.spec.labels:
                index.labels.setdefault(label_key(label), why)
        return index

    @property
    def empty(self) -> bool:
        """No Exclusion loaded: nothing can match (the common case, checked once per object)."""
        return not (self.values or self.networks or self.hashes or self.ids or self.labels)

    def match_object(self, obj: SourceObject) -> str | None:
        """`excluded: <exclusion> (<reason>)` when the object must never be pushed."""
        if self.empty:
            return None
        for ident in (obj.standard_id, obj.internal_id):
            if ident and ident in self.ids:
                return f"excluded: {self.ids[ident]}"
        for label in obj.labels:
            if label_key(label) in self.labels:
                return f"excluded: {self.labels[label_key(label)]}"
        literals: list[str] = []
        if obj.value:
            literals.append(obj.value)
        literals.extend(obj.hashes.values())
        if obj.pattern and obj.pattern_type == "stix":
            literals.extend(m.replace("\\'", "'") for m in _QUOTED.findall(obj.pattern))
        for literal in literals:
            hit = self.match_value(literal)
            if hit is not None:
                return f"excluded: {hit}"
        return None

    def match_value(self, value: str) -> str | None:
        """Every spelling the renderer would accept counts: `10.1.2.3/32`, an IDN or its
        punycode, a URL whose host is excluded."""
        for form in _forms(value):
            hit = self.values.get(form) or self.hashes.get(form)
            if hit is not None:
                return hit
            host = _address(form) if self.networks else None
            if host is not None:
                for net, why in self.networks:
                    if host.version == net.version and host in net:
                        return why
        return None

    def match_hashes(self, hashes: Iterable[str]) -> str | None:
        if not self.hashes:
            return None
        for digest in hashes:
            hit = self.hashes.get(digest.lower())
            if hit is not None:
                return hit
        return None


def _canon(value: str) -> str:
    forms = _forms(value)
    return forms[0] if forms else value.strip().lower()


def _forms(value: str) -> list[str]:
    """The canonical forms of a literal: as an address, a domain, a URL and its host."""
    text = value.strip()
    forms: list[str] = []
    for version in (4, 6):
        address = canonical_ip(text, version)
        if address is not None and "/" not in address:
            forms.append(address)
    domain = canonical_domain(text)
    if domain is not None:
        forms.append(domain)
    if "://" in text:
        url = canonical_url(text)
        if url is not None:
            forms.append(url)
        try:
            host = urlsplit(text).hostname
        except ValueError:
            host = None
        if host:
            forms.extend(_forms(host))
    forms.append(text.lower().rstrip("."))
    return list(dict.fromkeys(forms))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
