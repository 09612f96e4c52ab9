"""The demo seed: committed output of a deterministic script, realistic and safe."""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from datetime import UTC, datetime

from octi_sandbox.opencti import DEMO_SEED
from octi_sandbox.seed import make_demo

from controller.sources.bundle import read_bundle

from .conftest import NOW

DOC_NETS = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


def test_the_committed_demo_seed_is_current() -> None:
    assert make_demo.main(["--check"]) == 0, "run: python -m octi_sandbox.seed.make_demo"
    assert make_demo.render() == make_demo.render()


def test_the_demo_holds_every_case_the_controller_must_handle() -> None:
    objects = read_bundle(DEMO_SEED, now=NOW).objects
    indicators = [o for o in objects if o.is_indicator]
    observables = [o for o in objects if not o.is_indicator]
    assert 55 <= len(indicators) <= 70 and 15 <= len(observables) <= 25
    kinds = Counter(o.pattern_type for o in indicators)
    assert {"stix", "yara", "tanium-signal", "sigma", "snort", "suricata"} <= set(kinds)
    patterns = [o.pattern or "" for o in indicators]
    assert any("hashes.SHA256 " in p for p in patterns)
    assert any("hashes.'SHA-256'" in p for p in patterns)
    assert any(" OR " in p for p in patterns) and any(" AND " in p for p in patterns)
    assert any("FOLLOWEDBY" in p for p in patterns)
    assert sum(o.revoked for o in indicators) >= 3
    expired = [
        o for o in indicators if o.valid_until and o.valid_until < datetime(2026, 1, 1, tzinfo=UTC)
    ]
    assert len(expired) >= 4 and all(o.valid_until.year == 2025 for o in expired if o.valid_until)
    assert sum(o.detection is False for o in indicators) >= 2
    assert any("TLP:RED" in o.markings for o in objects)
    assert {"emotet", "cobalt-strike", "ransomware", "tanium", "phishing"} <= {
        label for o in objects for label in o.labels
    }
    assert {
        "IPv4-Addr",
        "IPv6-Addr",
        "Domain-Name",
        "Hostname",
        "Url",
        "StixFile",
        "Email-Addr",
    } <= {o.entity_type for o in observables}


def test_the_demo_uses_documentation_addresses_and_fake_domains_only() -> None:
    text = DEMO_SEED.read_text(encoding="utf-8")
    for match in re.findall(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", text):
        address = ipaddress.ip_address(match)
        assert any(address in net for net in DOC_NETS), match
    for match in re.findall(r"2001:db8[0-9a-f:]*", text):
        assert ipaddress.ip_address(match) in DOC_NETS[3]
    data = json.loads(text)
    for obj in data["objects"]:
        if obj["type"] in ("domain-name", "hostname"):
            assert obj["value"].lower().endswith((".example", ".test")), obj["value"]
    for domain in re.findall(r"domain-name:value = '([^']+)'", text):
        assert domain.endswith((".example", ".test")), domain
