"""The OpenIOC search terms: the renderer's defaults, and the tenant's own. Pure.

No public Tanium source lists the terms Threat Response matches on, so the renderer's
(`controller.render.stix`: `PortItem/remoteIP`, `Network/DNS`, `FileItem/Md5sum`, ...) are
educated guesses. Tanium's quick-add builds OpenIOC from values with the terms *this* tenant
uses; the controller asks it once for one sample value of each type (`controller.tanium.terms`)
and renders with a translation `{renderer term: tenant term}`. A translation is part of the
rendered payload, so the documents' digests change with it (and only with it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

from controller.render.openioc import payload_of
from controller.render.stix import HASH_TERMS, VALUE_TERMS

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_SANE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:/[A-Za-z0-9]+)+")


def sample_values() -> dict[str, dict[str, str]]:
    """Quick-add type → {kind: one documentation-range sample value of that kind}."""
    return {
        "Network Indicators": {"ipv4-addr": "192.0.2.1", "domain-name": "example.com"},
        "File Hashes": {
            "md5": "d41d8cd98f00b204e9800998ecf8427e",
            "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        },
    }


def renderer_terms() -> dict[str, str]:
    """Kind → the search term the renderer writes by default."""
    terms = {kind: VALUE_TERMS[kind][0] for kind in ("ipv4-addr", "domain-name")}
    terms.update({alg: term for alg, (term, _) in HASH_TERMS.items()})
    return terms


def searches_by_value(xml: str) -> dict[str, str]:
    """Lower-cased value → the `Context/@search` of the IndicatorItem holding it."""
    root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    found: dict[str, str] = {}
    for item in root.iter("{*}IndicatorItem"):
        context, content = item.find("{*}Context"), item.find("{*}Content")
        if context is not None and content is not None and content.text:
            found[content.text.strip().lower()] = str(context.get("search", ""))
    return found


def emitted_terms(xml_by_type: Mapping[str, str]) -> dict[str, str]:
    """Kind → the term quick-add used for that kind's sample value (quick-add type → XML)."""
    out: dict[str, str] = {}
    for type_name, values in sample_values().items():
        xml = xml_by_type.get(type_name)
        if xml is None:
            continue
        found = searches_by_value(xml)
        for kind, value in values.items():
            term = found.get(value.lower(), "")
            if _SANE.fullmatch(term):
                out[kind] = term
    return out


def translation(emitted: Mapping[str, str]) -> dict[str, str]:
    """{renderer term: tenant term} where they differ (empty: render as by default)."""
    defaults = renderer_terms()
    return {
        defaults[kind]: term
        for kind, term in sorted(emitted.items())
        if kind in defaults and term != defaults[kind]
    }


def describe(terms: Mapping[str, str]) -> str:
    """The translation as one line for the plan's inputs (empty: the renderer's terms)."""
    return ";".join(f"{a}={b}" for a, b in sorted(terms.items()))


def translate_payload(payload: str, terms: Mapping[str, str]) -> str:
    """An OpenIOC candidate payload with its terms translated (unchanged without a match)."""
    if not terms or not any(f'"{term}"' in payload for term in terms):
        return payload
    tree = json.loads(payload)

    def walk(node: dict[str, Any]) -> None:
        if "op" in node:
            for item in node["items"]:
                walk(item)
        else:
            node["term"] = terms.get(node["term"], node["term"])

    walk(tree)
    return payload_of(tree)
