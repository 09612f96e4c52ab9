"""The OpenIOC search terms the tenant's quick-add emits, against the renderer's. Pure."""

from __future__ import annotations

from lxml import etree

from controller.doctor.model import Check, fail, ok
from controller.render.stix import HASH_TERMS, VALUE_TERMS

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


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
    """Kind → the search term the renderer writes for it."""
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


def compare_terms(emitted: dict[str, str]) -> Check:
    name = "OpenIOC terms: quick-add emits the renderer's search terms"
    expected = renderer_terms()
    differ = [
        f"{kind}: quick-add {emitted.get(kind, 'nothing')!r}, renderer {term!r}"
        for kind, term in sorted(expected.items())
        if emitted.get(kind) != term
    ]
    if not differ:
        return ok("Tanium", name, "URL documents: quick-add has no URL type (unverified)")
    return fail(
        "Tanium",
        name,
        "; ".join(differ),
        "documents with the renderer's terms may never match on this tenant: keep URL and "
        "OpenIOC targets off until the terms are confirmed (docs/sync-matrix.md), and report it",
    )
