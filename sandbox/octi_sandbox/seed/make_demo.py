"""Generate `demo-opencti.json`: the demo OpenCTI knowledge base, as a STIX 2.1 bundle.

    python -m octi_sandbox.seed.make_demo            # rewrites demo-opencti.json
    python -m octi_sandbox.seed.make_demo --check    # exit 1 if the file is stale

Deterministic (no clock, no randomness): ids are OpenCTI's own standard ids (uuidv5 over the
pattern or the observable value), hashes are digests of fixed strings, dates are fixed. All
addresses are documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32) and all domains end in `.example` or `.test`: nothing here is real.

What it holds, on purpose: every pattern type (STIX single comparisons on IPv4, IPv6, domain,
URL and file hashes in both `SHA256` and `'SHA-256'` spellings; OR patterns; AND / FOLLOWEDBY
patterns no flat list can hold; YARA rules, one with a syntax error; Tanium Signals, one
invalid; sigma, snort, suricata), observables of several types linked by `based-on`, labels,
scores, TLP markings including one TLP:RED, revoked and expired indicators (valid_until in
2025), and detection switched off on two.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from octi_sandbox.seed.demo_data import BASED_ON, INDICATORS, OBSERVABLES

OUT = Path(__file__).with_name("demo-opencti.json")
OASIS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
DEMO = uuid.UUID("3f7c2a10-5b9e-4d1a-8c6f-0e2d4b6a8c00")
OPENCTI_EXT = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
SCO_EXT = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"

TLP = {
    "CLEAR": ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "clear"),
    "GREEN": ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
    "AMBER": ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
    "AMBER+STRICT": ("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37", "amber+strict"),
    "RED": ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
}
AUTHOR = "identity--" + str(
    uuid.uuid5(OASIS, '{"identity_class":"organization","name":"example cti team"}')
)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sid(prefix: str, contributing: dict[str, Any]) -> str:
    return f"{prefix}--{uuid.uuid5(OASIS, canonical(contributing))}"


def opencti_ext(ident: str, created: str, updated: str) -> dict[str, Any]:
    return {
        "extension_type": "property-extension",
        "id": str(uuid.uuid5(DEMO, ident)),
        "created_at": created,
        "updated_at": updated,
    }


# --------------------------------------------------------------------------- generation


def indicator(spec: dict[str, Any], index: int) -> dict[str, Any]:
    ident = sid("indicator", {"pattern": spec["pattern"].strip()})
    created = f"2026-{1 + index % 10:02d}-{1 + spec['day'] % 27:02d}T09:{index % 60:02d}:00.000Z"
    modified = created.replace("T09:", "T15:")
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident,
        "created": created,
        "modified": modified,
        "name": spec["name"],
        "pattern": spec["pattern"],
        "pattern_type": spec["kind"],
        "valid_from": created,
        "valid_until": spec["until"],
        "revoked": spec["revoked"],
        "confidence": spec["confidence"],
        "created_by_ref": AUTHOR,
        "object_marking_refs": [TLP[spec["tlp"]][0]],
        "extensions": {OPENCTI_EXT: opencti_ext(ident, created, modified)},
    }
    if spec["description"]:
        obj["description"] = spec["description"]
    if spec["labels"]:
        obj["labels"] = list(spec["labels"])
    if spec["kind"] == "stix":
        obj["pattern_version"] = "2.1"
    if spec["score"] is not None:
        obj["x_opencti_score"] = spec["score"]
    if spec["detection"] is not None:
        obj["x_opencti_detection"] = spec["detection"]
    if spec["main"]:
        obj["x_opencti_main_observable_type"] = spec["main"]
    if spec["platforms"]:
        obj["x_mitre_platforms"] = list(spec["platforms"])
    return obj


def observable(spec: dict[str, Any], index: int) -> dict[str, Any]:
    kind = spec["kind"]
    if kind == "file":
        algorithm = next(a for a in ("MD5", "SHA-1", "SHA-256") if a in spec["hashes"])
        ident = sid("file", {"hashes": {algorithm: spec["hashes"][algorithm]}})
    else:
        ident = sid(kind, {"value": spec["value"].strip().lower()})
    created = f"2026-{1 + index % 10:02d}-{5 + index % 20:02d}T08:00:00.000Z"
    updated = created.replace("T08:", "T18:")
    sco: dict[str, Any] = {"extension_type": "property-extension"}
    if spec["labels"]:
        sco["labels"] = list(spec["labels"])
    if spec["score"] is not None:
        sco["score"] = spec["score"]
    if spec["description"]:
        sco["description"] = spec["description"]
    obj: dict[str, Any] = {"type": kind, "spec_version": "2.1", "id": ident}
    if spec["value"] is not None:
        obj["value"] = spec["value"]
    if spec["hashes"]:
        obj["hashes"] = dict(spec["hashes"])
    if spec["name"]:
        obj["name"] = spec["name"]
    obj["object_marking_refs"] = [TLP[spec["tlp"]][0]]
    obj["extensions"] = {OPENCTI_EXT: opencti_ext(ident, created, updated), SCO_EXT: sco}
    return obj


def bundle() -> dict[str, Any]:
    objects: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": AUTHOR,
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "name": "Example CTI Team",
            "identity_class": "organization",
        },
    ]
    for name, (ident, level) in TLP.items():
        objects.append({
            "type": "marking-definition", "spec_version": "2.1", "id": ident,
            "created": "2022-10-01T00:00:00.000Z", "name": f"TLP:{name}",
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                           {"extension_type": "property-extension", "tlp_2_0": level}},
        })  # fmt: skip
    indicators = [indicator(spec, i) for i, spec in enumerate(INDICATORS)]
    observables = [observable(spec, i) for i, spec in enumerate(OBSERVABLES)]
    objects += indicators + observables
    by_pattern = {o["pattern"]: o for o in indicators}
    by_value = {o.get("value") or o["hashes"].get("SHA-256"): o for o in observables}
    for pattern, value in BASED_ON.items():
        source, target = by_pattern[pattern], by_value[value]
        rel = sid("relationship", {"relationship_type": "based-on", "source_ref": source["id"],
                                   "target_ref": target["id"]})  # fmt: skip
        objects.append({
            "type": "relationship", "spec_version": "2.1", "id": rel,
            "created": source["created"], "modified": source["created"],
            "relationship_type": "based-on", "source_ref": source["id"], "target_ref": target["id"],
        })  # fmt: skip
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(DEMO, 'demo-opencti')}",
        "objects": objects,
    }


def render() -> str:
    return json.dumps(bundle(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is stale: run python -m octi_sandbox.seed.make_demo", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(INDICATORS)} indicators, {len(OBSERVABLES)} observables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
