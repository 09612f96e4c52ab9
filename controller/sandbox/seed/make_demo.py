"""Generate `demo-opencti.json`: the demo OpenCTI knowledge base, as a STIX 2.1 bundle.

    python -m controller.sandbox.seed.make_demo            # rewrites demo-opencti.json
    python -m controller.sandbox.seed.make_demo --check    # exit 1 if the file is stale

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

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

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


def digest(algorithm: str, seed: str) -> str:
    return hashlib.new(algorithm, seed.encode()).hexdigest()


def opencti_ext(ident: str, created: str, updated: str) -> dict[str, Any]:
    return {
        "extension_type": "property-extension",
        "id": str(uuid.uuid5(DEMO, ident)),
        "created_at": created,
        "updated_at": updated,
    }


# --------------------------------------------------------------------------- content

EMOTET_SHA = digest("sha256", "emotet-loader-invoice.doc")
EMOTET_SHA2 = digest("sha256", "emotet-dll-stage2")
EMOTET_SHA3 = digest("sha256", "emotet-dropper-xls")
EMOTET_MD5 = digest("md5", "emotet-loader-invoice.doc")
CS_SHA1 = digest("sha1", "cobalt-strike-beacon-x64")
RANSOM_SHA = [digest("sha256", f"ransom-locker-{i}") for i in range(3)]
RANSOM_MD5 = digest("md5", "ransom-locker-0")
RANSOM_SHA512 = digest("sha512", "ransom-locker-note")
QAK_MD5 = digest("md5", "qakbot-dll")
QAK_SHA = digest("sha256", "qakbot-dll")

YARA_CS = """rule CobaltStrike_Beacon_Demo
{
    meta:
        description = "Cobalt Strike beacon configuration marker (demo)"
        author = "Example CTI Team"
    strings:
        $cfg = { 69 68 69 68 69 6B }
        $pipe = "\\\\.\\\\pipe\\\\msagent_" ascii wide
    condition:
        uint16(0) == 0x5A4D and any of them
}
"""
YARA_RANSOM = """rule Ransom_Note_Demo
{
    meta:
        description = "Ransom note dropped by the demo locker family"
    strings:
        $a = "YOUR FILES HAVE BEEN ENCRYPTED" nocase
        $b = "recover-files.test" ascii
    condition:
        all of them
}
"""
YARA_EMOTET = """rule Emotet_Loader_Demo
{
    strings:
        $s1 = "invoice_payment.doc" ascii
        $s2 = { 4D 5A 90 00 03 00 00 00 }
    condition:
        $s2 at 0 and $s1
}
"""
YARA_BROKEN = """rule CobaltStrike_Broken_Demo
{
    strings:
        $a = "beacon.dll"
    condition:
        $a and
"""
SIGNAL_OK = (
    "process.path ends with '\\\\rundll32.exe' AND process.command_line contains 'zipfldr' "
    "AND process.command_line contains 'RouteTheCall'"
)
SIGNAL_BAD = "process.path frobnicates 'vssadmin.exe' AND"
SIGMA = """title: Shadow copy deletion via vssadmin
logsource: {product: windows, category: process_creation}
detection:
  selection: {Image|endswith: '\\\\vssadmin.exe', CommandLine|contains: 'delete shadows'}
  condition: selection
level: high
"""
SNORT = ('alert tcp $HOME_NET any -> 203.0.113.30 443 (msg:"Qakbot C2 beacon (demo)"; '
         'flow:established,to_server; sid:9000001; rev:1;)')  # fmt: skip
SURICATA = ('alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"Qakbot loader download (demo)"; '
            'http.uri; content:"/wp-content/qak.dll"; sid:9000002; rev:1;)')  # fmt: skip


def I(name: str, pattern: str, *, kind: str = "stix", labels: tuple[str, ...] = (),
      score: int | None = 70, tlp: str = "GREEN", main: str | None = None,
      until: str = "2027-11-30T00:00:00.000Z", revoked: bool = False,
      detection: bool | None = True, platforms: tuple[str, ...] = (), description: str = "",
      confidence: int = 75, day: int = 1) -> dict[str, Any]:  # fmt: skip
    """An indicator spec (the generator below turns it into STIX)."""
    return dict(name=name, pattern=pattern, kind=kind, labels=labels, score=score, tlp=tlp,
                main=main, until=until, revoked=revoked, detection=detection,
                platforms=platforms, description=description, confidence=confidence, day=day)  # fmt: skip


EXPIRED = "2025-06-30T00:00:00.000Z"
WIN = ("windows",)
INDICATORS: list[dict[str, Any]] = [
    # Emotet (C2 infrastructure, loaders)
    *[
        I(
            f"Emotet C2 192.0.2.{n}",
            f"[ipv4-addr:value = '192.0.2.{n}']",
            labels=("emotet", "tanium"),
            score=80 + n % 10,
            main="IPv4-Addr",
            day=n,
            description=f"Emotet epoch 5 C2 node seen in malspam follow-up traffic (node {n}).",
        )
        for n in (10, 11, 12, 13, 14)
    ],  # fmt: skip
    I(
        "Emotet C2 192.0.2.15 (expired)",
        "[ipv4-addr:value = '192.0.2.15']",
        labels=("emotet",),
        score=40,
        main="IPv4-Addr",
        until=EXPIRED,
        description="Retired Emotet C2 node.",
    ),
    I(
        "Emotet payload host",
        "[domain-name:value = 'cdn-invoices.example']",
        labels=("emotet", "tanium"),
        score=85,
        main="Domain-Name",
        description="Serves the first-stage Emotet document.",
    ),
    I(
        "Emotet payload host (mirror)",
        "[domain-name:value = 'docs-billing.test']",
        labels=("emotet",),
        score=75,
        main="Domain-Name",
    ),
    I(
        "Emotet staging domain",
        "[domain-name:value = 'stage2-update.example']",
        labels=("Emotet",),
        score=65,
        main="Domain-Name",
        description="Label spelled with a capital E on purpose.",
    ),
    I(
        "Emotet download URL",
        "[url:value = 'http://cdn-invoices.example/inv/8812.doc']",
        labels=("emotet", "tanium"),
        score=85,
        main="Url",
    ),
    I(
        "Emotet download URL 2",
        "[url:value = 'https://docs-billing.test/payment/INV-2291.xls']",
        labels=("emotet",),
        score=70,
        main="Url",
    ),
    I(
        "Emotet loader document",
        f"[file:hashes.'SHA-256' = '{EMOTET_SHA}']",
        labels=("emotet", "tanium"),
        score=90,
        main="StixFile",
        platforms=WIN,
        description="Macro document dropping the loader.",
    ),
    I(
        "Emotet stage-2 DLL",
        f"[file:hashes.SHA256 = '{EMOTET_SHA2}']",
        labels=("emotet", "tanium"),
        score=90,
        main="StixFile",
        platforms=WIN,
        description="Unquoted SHA256 key spelling.",
    ),
    I(
        "Emotet dropper spreadsheet",
        f"[file:hashes.'SHA-256' = '{EMOTET_SHA3}']",
        labels=("emotet",),
        score=60,
        main="StixFile",
        tlp="AMBER",
    ),
    I(
        "Emotet loader document (MD5)",
        f"[file:hashes.MD5 = '{EMOTET_MD5}']",
        labels=("emotet",),
        score=80,
        main="StixFile",
    ),
    I(
        "Emotet loader (either hash)",
        f"[file:hashes.MD5 = '{EMOTET_MD5}' OR file:hashes.'SHA-256' = '{EMOTET_SHA}']",
        labels=("emotet", "tanium"),
        score=85,
        main="StixFile",
    ),
    I(
        "Emotet loader YARA",
        YARA_EMOTET,
        kind="yara",
        labels=("emotet", "tanium"),
        score=75,
        platforms=WIN,
        description="Matches the loader's PE header and lure name.",
    ),
    # Cobalt Strike
    *[
        I(
            f"Cobalt Strike team server 198.51.100.{n}",
            f"[ipv4-addr:value = '198.51.100.{n}']",
            labels=("cobalt-strike", "tanium"),
            score=90,
            main="IPv4-Addr",
            tlp="AMBER",
            day=n % 28,
        )
        for n in (20, 21, 22)
    ],  # fmt: skip
    I(
        "Cobalt Strike team server (IPv6)",
        "[ipv6-addr:value = '2001:db8:0:20::1']",
        labels=("cobalt-strike",),
        score=85,
        main="IPv6-Addr",
        tlp="AMBER",
    ),
    I(
        "Cobalt Strike redirector (IPv6)",
        "[ipv6-addr:value = '2001:db8:ffff::21']",
        labels=("cobalt-strike",),
        score=70,
        main="IPv6-Addr",
    ),
    I(
        "Cobalt Strike malleable C2 domain",
        "[domain-name:value = 'updates.cdn-sync.example']",
        labels=("cobalt-strike", "tanium"),
        score=88,
        main="Domain-Name",
        tlp="AMBER+STRICT",
    ),
    I(
        "Cobalt Strike DNS beacon domain",
        "[domain-name:value = 'ns1.telemetry-check.test']",
        labels=("cobalt-strike",),
        score=80,
        main="Domain-Name",
    ),
    I(
        "Cobalt Strike beacon (SHA-1)",
        f"[file:hashes.'SHA-1' = '{CS_SHA1}']",
        labels=("cobalt-strike", "tanium"),
        score=92,
        main="StixFile",
        platforms=WIN,
    ),
    I(
        "Cobalt Strike beacon YARA",
        YARA_CS,
        kind="yara",
        labels=("cobalt-strike", "tanium"),
        score=85,
        platforms=WIN,
        description="Beacon config marker and default named pipe.",
    ),
    I(
        "Cobalt Strike beacon YARA (broken)",
        YARA_BROKEN,
        kind="yara",
        labels=("cobalt-strike", "tanium"),
        score=60,
        description="A rule with a syntax error: must be skipped, not sent.",
    ),
    # Ransomware
    *[
        I(
            f"Locker ransomware sample {i + 1}",
            f"[file:hashes.'SHA-256' = '{h}']",
            labels=("ransomware", "tanium"),
            score=95,
            main="StixFile",
            platforms=WIN,
            day=10 + i,
        )
        for i, h in enumerate(RANSOM_SHA)
    ],  # fmt: skip
    I(
        "Locker ransomware sample 1 (MD5)",
        f"[file:hashes.MD5 = '{RANSOM_MD5}']",
        labels=("ransomware",),
        score=90,
        main="StixFile",
    ),
    I(
        "Locker ransom note",
        f"[file:hashes.'SHA-512' = '{RANSOM_SHA512}']",
        labels=("ransomware",),
        score=70,
        main="StixFile",
    ),
    I(
        "Locker ransom note YARA",
        YARA_RANSOM,
        kind="yara",
        labels=("ransomware", "tanium"),
        score=80,
        platforms=("windows", "linux"),
    ),
    I(
        "Zipfldr RouteTheCall proxy execution",
        SIGNAL_OK,
        kind="tanium-signal",
        labels=("ransomware", "tanium"),
        score=75,
        platforms=WIN,
        description="rundll32 executing zipfldr.dll,RouteTheCall (defense evasion).",
    ),
    I(
        "Shadow copy deletion (broken signal)",
        SIGNAL_BAD,
        kind="tanium-signal",
        labels=("ransomware", "tanium"),
        score=70,
        platforms=WIN,
        description="An invalid Tanium Signal: must be skipped with an error.",
    ),
    I("Shadow copy deletion (sigma)", SIGMA, kind="sigma", labels=("ransomware",), score=70),
    # Phishing
    I(
        "Credential phishing page",
        "[url:value = 'https://login.microsoft-verify.example/owa/']",
        labels=("phishing", "tanium"),
        score=75,
        main="Url",
    ),
    I(
        "Credential phishing page 2",
        "[url:value = 'https://sso.payroll-portal.test/auth']",
        labels=("phishing",),
        score=65,
        main="Url",
    ),
    I(
        "Phishing kit landing",
        "[url:value = 'http://203.0.113.77/kit/index.php']",
        labels=("phishing",),
        score=55,
        main="Url",
        tlp="CLEAR",
    ),
    I(
        "Phishing sender domain",
        "[domain-name:value = 'microsoft-verify.example']",
        labels=("phishing", "tanium"),
        score=80,
        main="Domain-Name",
        tlp="CLEAR",
    ),
    I(
        "Phishing sender domain 2",
        "[domain-name:value = 'payroll-portal.test']",
        labels=("phishing",),
        score=60,
        main="Domain-Name",
    ),
    I(
        "Phishing reply-to address",
        "[email-addr:value = 'billing@invoices-dept.example']",
        labels=("phishing",),
        score=50,
        main="Email-Addr",
    ),
    I(
        "Phishing lookalike domains",
        "[domain-name:value = 'rnicrosoft-support.example' OR "
        "domain-name:value = 'micros0ft-login.test']",
        labels=("phishing", "tanium"),
        score=70,
        main="Domain-Name",
    ),  # fmt: skip
    # Qakbot
    I(
        "Qakbot C2 203.0.113.30",
        "[ipv4-addr:value = '203.0.113.30']",
        labels=("qakbot", "tanium"),
        score=85,
        main="IPv4-Addr",
    ),
    I(
        "Qakbot C2 203.0.113.31",
        "[ipv4-addr:value = '203.0.113.31']",
        labels=("qakbot",),
        score=75,
        main="IPv4-Addr",
    ),
    I(
        "Qakbot C2 pair",
        "[ipv4-addr:value = '203.0.113.32' OR ipv4-addr:value = '203.0.113.33']",
        labels=("qakbot", "tanium"),
        score=80,
        main="IPv4-Addr",
    ),
    I(
        "Qakbot loader (MD5 and size)",
        f"[file:hashes.MD5 = '{QAK_MD5}' AND file:size = 421888]",
        labels=("qakbot", "tanium"),
        score=70,
        main="StixFile",
        description="AND of two properties: a flat list cannot hold it.",
    ),
    I(
        "Qakbot C2 then download",
        "[ipv4-addr:value = '203.0.113.30'] FOLLOWEDBY "
        "[url:value = 'http://203.0.113.30/wp-content/qak.dll']",
        labels=("qakbot",),
        score=65,
    ),
    I(
        "Qakbot loader (SHA-256)",
        f"[file:hashes.'SHA-256' = '{QAK_SHA}']",
        labels=("qakbot", "tanium"),
        score=85,
        main="StixFile",
        platforms=WIN,
    ),
    I("Qakbot C2 beacon (snort)", SNORT, kind="snort", labels=("qakbot",), score=70),
    I("Qakbot loader download (suricata)", SURICATA, kind="suricata", labels=("qakbot",), score=70),
    # Lifecycle: revoked, expired, detection off, TLP:RED
    I(
        "Old Emotet C2 (revoked)",
        "[ipv4-addr:value = '192.0.2.50']",
        labels=("emotet", "tanium"),
        score=20,
        main="IPv4-Addr",
        revoked=True,
        detection=False,
        description="Revoked by the CTI team after sinkholing.",
    ),
    I(
        "Sinkholed domain (revoked)",
        "[domain-name:value = 'old-c2.example']",
        labels=("cobalt-strike", "tanium"),
        score=20,
        main="Domain-Name",
        revoked=True,
    ),
    I(
        "False positive hash (revoked)",
        f"[file:hashes.'SHA-256' = '{digest('sha256', 'notepad')}']",
        labels=("ransomware",),
        score=0,
        main="StixFile",
        revoked=True,
    ),
    I(
        "Expired phishing URL",
        "[url:value = 'http://old-login.example/verify']",
        labels=("phishing",),
        score=40,
        main="Url",
        until="2025-03-01T00:00:00.000Z",
    ),
    I(
        "Expired Qakbot C2",
        "[ipv4-addr:value = '203.0.113.40']",
        labels=("qakbot", "tanium"),
        score=50,
        main="IPv4-Addr",
        until="2025-09-15T00:00:00.000Z",
    ),
    I(
        "Expired ransomware hash",
        f"[file:hashes.MD5 = '{digest('md5', 'ransom-2024')}']",
        labels=("ransomware", "tanium"),
        score=60,
        main="StixFile",
        until="2025-12-31T00:00:00.000Z",
    ),
    I(
        "Shared hosting IP (detection off)",
        "[ipv4-addr:value = '198.51.100.99']",
        labels=("phishing",),
        score=30,
        main="IPv4-Addr",
        detection=False,
        description="Shared hosting: kept for context, not for detection.",
    ),
    I(
        "Generic downloader hash (detection off)",
        f"[file:hashes.'SHA-256' = '{digest('sha256', 'generic-downloader')}']",
        labels=("emotet",),
        score=45,
        main="StixFile",
        detection=False,
    ),
    I(
        "Internal investigation IOC",
        "[ipv4-addr:value = '198.51.100.200']",
        labels=("internal-investigation", "tanium"),
        score=95,
        main="IPv4-Addr",
        tlp="RED",
        description="TLP:RED: must never leave OpenCTI unless a policy says allowRed.",
    ),
    I(
        "Unscored lookalike domain",
        "[domain-name:value = 'secure-update.test']",
        labels=(),
        score=None,
        main="Domain-Name",
        detection=None,
        description="No score, no detection flag, no label: absent fields stay absent.",
    ),
    I(
        "Emotet C2 (low confidence)",
        "[ipv4-addr:value = '192.0.2.77']",
        labels=("emotet",),
        score=35,
        main="IPv4-Addr",
        confidence=15,
    ),
]


def O(kind: str, value: str | None = None, *, labels: tuple[str, ...] = (), score: int | None = None,
      tlp: str = "GREEN", description: str = "", hashes: dict[str, str] | None = None,
      name: str | None = None) -> dict[str, Any]:  # fmt: skip
    return dict(kind=kind, value=value, labels=labels, score=score, tlp=tlp,
                description=description, hashes=hashes or {}, name=name)  # fmt: skip


OBSERVABLES: list[dict[str, Any]] = [
    O("ipv4-addr", "192.0.2.10", labels=("emotet",), score=85, description="Emotet C2"),
    O("ipv4-addr", "192.0.2.11", labels=("emotet",), score=80),
    O("ipv4-addr", "198.51.100.20", labels=("cobalt-strike",), score=90, tlp="AMBER"),
    O("ipv4-addr", "203.0.113.30", labels=("qakbot",), score=85),
    O("ipv6-addr", "2001:db8:0:20::1", labels=("cobalt-strike",), score=85, tlp="AMBER"),
    O("ipv6-addr", "2001:db8:abcd::7", score=40),
    O("domain-name", "cdn-invoices.example", labels=("emotet",), score=85),
    O("domain-name", "microsoft-verify.example", labels=("phishing",), score=80, tlp="CLEAR"),
    O(
        "domain-name",
        "Mixed-Case.Example",
        labels=("phishing",),
        score=50,
        description="Mixed case on purpose.",
    ),
    O(
        "hostname",
        "ws-fin-042.corp.example",
        labels=("ransomware",),
        score=60,
        description="Finance workstation where the locker first ran.",
    ),
    O("hostname", "build-agent-7.lab.test", score=30),
    O("url", "http://cdn-invoices.example/inv/8812.doc", labels=("emotet",), score=85),
    O("url", "https://login.microsoft-verify.example/owa/", labels=("phishing",), score=75),
    O(
        "file",
        hashes={"SHA-256": EMOTET_SHA, "MD5": EMOTET_MD5},
        name="invoice_8812.doc",
        labels=("emotet", "tanium"),
        score=90,
        description="Emotet loader document",
    ),
    O(
        "file",
        hashes={"SHA-256": RANSOM_SHA[0], "MD5": RANSOM_MD5},
        name="locker.exe",
        labels=("ransomware", "tanium"),
        score=95,
    ),
    O(
        "file",
        hashes={"SHA-1": CS_SHA1},
        name="beacon_x64.dll",
        labels=("cobalt-strike",),
        score=92,
        tlp="AMBER",
    ),
    O("file", hashes={"SHA-256": QAK_SHA, "MD5": QAK_MD5}, labels=("qakbot",), score=85),
    O("email-addr", "billing@invoices-dept.example", labels=("phishing",), score=50),
    O("email-addr", "it-helpdesk@payroll-portal.test", labels=("phishing",), score=45),
    O("ipv4-addr", "198.51.100.200", labels=("internal-investigation",), score=95, tlp="RED"),
]

# indicator pattern → observable value it is based on
BASED_ON = {
    "[ipv4-addr:value = '192.0.2.10']": "192.0.2.10",
    "[ipv4-addr:value = '192.0.2.11']": "192.0.2.11",
    "[ipv4-addr:value = '198.51.100.20']": "198.51.100.20",
    "[ipv4-addr:value = '203.0.113.30']": "203.0.113.30",
    "[domain-name:value = 'cdn-invoices.example']": "cdn-invoices.example",
    "[url:value = 'http://cdn-invoices.example/inv/8812.doc']": "http://cdn-invoices.example/inv/8812.doc",
    f"[file:hashes.'SHA-256' = '{EMOTET_SHA}']": EMOTET_SHA,
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
        },  # fmt: skip
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
            print(
                f"{OUT} is stale: run python -m controller.sandbox.seed.make_demo", file=sys.stderr
            )
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(INDICATORS)} indicators, {len(OBSERVABLES)} observables)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
