"""The demo knowledge base as tables: what `make_demo.py` turns into `demo-opencti.json`.

Documentation addresses only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and
`.example` / `.test` domains; hashes are digests of fixed strings. Nothing here is real.
"""

from __future__ import annotations

import hashlib
from typing import Any


def digest(algorithm: str, seed: str) -> str:
    return hashlib.new(algorithm, seed.encode()).hexdigest()


def ind(name: str, pattern: str, *, kind: str = "stix", labels: tuple[str, ...] = (),
        score: int | None = 70, tlp: str = "GREEN", main: str | None = None,
        until: str = "2027-11-30T00:00:00.000Z", revoked: bool = False,
        detection: bool | None = True, platforms: tuple[str, ...] = (), description: str = "",
        confidence: int = 75, day: int = 1) -> dict[str, Any]:  # fmt: skip
    """One indicator (`make_demo.indicator` turns it into STIX)."""
    return {
        "name": name, "pattern": pattern, "kind": kind, "labels": labels, "score": score,
        "tlp": tlp, "main": main, "until": until, "revoked": revoked, "detection": detection,
        "platforms": platforms, "description": description, "confidence": confidence, "day": day,
    }  # fmt: skip


def obs(kind: str, value: str | None = None, *, labels: tuple[str, ...] = (),
        score: int | None = None, tlp: str = "GREEN", description: str = "",
        hashes: dict[str, str] | None = None,
        name: str | None = None) -> dict[str, Any]:  # fmt: skip
    """One observable (`make_demo.observable` turns it into STIX)."""
    return {"kind": kind, "value": value, "labels": labels, "score": score, "tlp": tlp,
            "description": description, "hashes": hashes or {}, "name": name}  # fmt: skip


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

YARA_CS = r"""rule CobaltStrike_Beacon_Demo
{
    meta:
        description = "Cobalt Strike beacon configuration marker (demo)"
        author = "Example CTI Team"
    strings:
        $cfg = { 69 68 69 68 69 6B }
        $pipe = "\\.\\pipe\\msagent_" ascii wide
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
    r"process.path ends with '\\rundll32.exe' AND process.command_line contains 'zipfldr' "
    "AND process.command_line contains 'RouteTheCall'"
)
SIGNAL_BAD = "process.path frobnicates 'vssadmin.exe' AND"
SIGMA = r"""title: Shadow copy deletion via vssadmin
logsource: {product: windows, category: process_creation}
detection:
  selection: {Image|endswith: '\vssadmin.exe', CommandLine|contains: 'delete shadows'}
  condition: selection
level: high
"""
SNORT = (
    'alert tcp $HOME_NET any -> 203.0.113.30 443 (msg:"Qakbot C2 beacon (demo)"; '
    "flow:established,to_server; sid:9000001; rev:1;)"
)
SURICATA = (
    'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"Qakbot loader download (demo)"; '
    'http.uri; content:"/wp-content/qak.dll"; sid:9000002; rev:1;)'
)
EXPIRED = "2025-06-30T00:00:00.000Z"
WIN = ("windows",)
EMO, CS, RAN, PHI, QAK, TAN = (
    "emotet",
    "cobalt-strike",
    "ransomware",
    "phishing",
    "qakbot",
    "tanium",
)

# fmt: off
INDICATORS: list[dict[str, Any]] = [
    # Emotet: C2 infrastructure and loaders
    *[ind(f"Emotet C2 192.0.2.{n}", f"[ipv4-addr:value = '192.0.2.{n}']", labels=(EMO, TAN),
          score=80 + n % 10, main="IPv4-Addr", day=n,
          description=f"Emotet epoch 5 C2 node seen in malspam follow-up traffic (node {n}).")
      for n in (10, 11, 12, 13, 14)],
    ind("Emotet C2 192.0.2.15 (expired)", "[ipv4-addr:value = '192.0.2.15']", labels=(EMO,),
        score=40, main="IPv4-Addr", until=EXPIRED, description="Retired Emotet C2 node."),
    ind("Emotet payload host", "[domain-name:value = 'cdn-invoices.example']", labels=(EMO, TAN),
        score=85, main="Domain-Name", description="Serves the first-stage Emotet document."),
    ind("Emotet payload host (mirror)", "[domain-name:value = 'docs-billing.test']",
        labels=(EMO,), score=75, main="Domain-Name"),
    ind("Emotet staging domain", "[domain-name:value = 'stage2-update.example']",
        labels=("Emotet",), score=65, main="Domain-Name",
        description="Label spelled with a capital E on purpose."),
    ind("Emotet download URL", "[url:value = 'http://cdn-invoices.example/inv/8812.doc']",
        labels=(EMO, TAN), score=85, main="Url"),
    ind("Emotet download URL 2", "[url:value = 'https://docs-billing.test/payment/INV-2291.xls']",
        labels=(EMO,), score=70, main="Url"),
    ind("Emotet loader document", f"[file:hashes.'SHA-256' = '{EMOTET_SHA}']", labels=(EMO, TAN),
        score=90, main="StixFile", platforms=WIN,
        description="Macro document dropping the loader."),
    ind("Emotet stage-2 DLL", f"[file:hashes.SHA256 = '{EMOTET_SHA2}']", labels=(EMO, TAN),
        score=90, main="StixFile", platforms=WIN, description="Unquoted SHA256 key spelling."),
    ind("Emotet dropper spreadsheet", f"[file:hashes.'SHA-256' = '{EMOTET_SHA3}']",
        labels=(EMO,), score=60, main="StixFile", tlp="AMBER"),
    ind("Emotet loader document (MD5)", f"[file:hashes.MD5 = '{EMOTET_MD5}']", labels=(EMO,),
        score=80, main="StixFile"),
    ind("Emotet loader (either hash)",
        f"[file:hashes.MD5 = '{EMOTET_MD5}' OR file:hashes.'SHA-256' = '{EMOTET_SHA}']",
        labels=(EMO, TAN), score=85, main="StixFile"),
    ind("Emotet loader YARA", YARA_EMOTET, kind="yara", labels=(EMO, TAN), score=75,
        platforms=WIN, description="Matches the loader's PE header and lure name."),
    # Cobalt Strike
    *[ind(f"Cobalt Strike team server 198.51.100.{n}", f"[ipv4-addr:value = '198.51.100.{n}']",
          labels=(CS, TAN), score=90, main="IPv4-Addr", tlp="AMBER", day=n % 28)
      for n in (20, 21, 22)],
    ind("Cobalt Strike team server (IPv6)", "[ipv6-addr:value = '2001:db8:0:20::1']",
        labels=(CS,), score=85, main="IPv6-Addr", tlp="AMBER"),
    ind("Cobalt Strike redirector (IPv6)", "[ipv6-addr:value = '2001:db8:ffff::21']",
        labels=(CS,), score=70, main="IPv6-Addr"),
    ind("Cobalt Strike malleable C2 domain", "[domain-name:value = 'updates.cdn-sync.example']",
        labels=(CS, TAN), score=88, main="Domain-Name", tlp="AMBER+STRICT"),
    ind("Cobalt Strike DNS beacon domain", "[domain-name:value = 'ns1.telemetry-check.test']",
        labels=(CS,), score=80, main="Domain-Name"),
    ind("Cobalt Strike beacon (SHA-1)", f"[file:hashes.'SHA-1' = '{CS_SHA1}']",
        labels=(CS, TAN), score=92, main="StixFile", platforms=WIN),
    ind("Cobalt Strike beacon YARA", YARA_CS, kind="yara", labels=(CS, TAN), score=85,
        platforms=WIN, description="Beacon config marker and default named pipe."),
    ind("Cobalt Strike beacon YARA (broken)", YARA_BROKEN, kind="yara", labels=(CS, TAN),
        score=60, description="A rule with a syntax error: must be skipped, not sent."),
    # Ransomware
    *[ind(f"Locker ransomware sample {i + 1}", f"[file:hashes.'SHA-256' = '{h}']",
          labels=(RAN, TAN), score=95, main="StixFile", platforms=WIN, day=10 + i)
      for i, h in enumerate(RANSOM_SHA)],
    ind("Locker ransomware sample 1 (MD5)", f"[file:hashes.MD5 = '{RANSOM_MD5}']",
        labels=(RAN,), score=90, main="StixFile"),
    ind("Locker ransom note", f"[file:hashes.'SHA-512' = '{RANSOM_SHA512}']", labels=(RAN,),
        score=70, main="StixFile"),
    ind("Locker ransom note YARA", YARA_RANSOM, kind="yara", labels=(RAN, TAN), score=80,
        platforms=("windows", "linux")),
    ind("Zipfldr RouteTheCall proxy execution", SIGNAL_OK, kind="tanium-signal",
        labels=(RAN, TAN), score=75, platforms=WIN,
        description="rundll32 executing zipfldr.dll,RouteTheCall (defense evasion)."),
    ind("Shadow copy deletion (broken signal)", SIGNAL_BAD, kind="tanium-signal",
        labels=(RAN, TAN), score=70, platforms=WIN,
        description="An invalid Tanium Signal: must be skipped with an error."),
    ind("Shadow copy deletion (sigma)", SIGMA, kind="sigma", labels=(RAN,), score=70),
    # Phishing
    ind("Credential phishing page", "[url:value = 'https://login.microsoft-verify.example/owa/']",
        labels=(PHI, TAN), score=75, main="Url"),
    ind("Credential phishing page 2", "[url:value = 'https://sso.payroll-portal.test/auth']",
        labels=(PHI,), score=65, main="Url"),
    ind("Phishing kit landing", "[url:value = 'http://203.0.113.77/kit/index.php']",
        labels=(PHI,), score=55, main="Url", tlp="CLEAR"),
    ind("Phishing sender domain", "[domain-name:value = 'microsoft-verify.example']",
        labels=(PHI, TAN), score=80, main="Domain-Name", tlp="CLEAR"),
    ind("Phishing sender domain 2", "[domain-name:value = 'payroll-portal.test']",
        labels=(PHI,), score=60, main="Domain-Name"),
    ind("Phishing reply-to address", "[email-addr:value = 'billing@invoices-dept.example']",
        labels=(PHI,), score=50, main="Email-Addr"),
    ind("Phishing lookalike domains", "[domain-name:value = 'rnicrosoft-support.example' OR "
        "domain-name:value = 'micros0ft-login.test']", labels=(PHI, TAN), score=70,
        main="Domain-Name"),
    # Qakbot
    ind("Qakbot C2 203.0.113.30", "[ipv4-addr:value = '203.0.113.30']", labels=(QAK, TAN),
        score=85, main="IPv4-Addr"),
    ind("Qakbot C2 203.0.113.31", "[ipv4-addr:value = '203.0.113.31']", labels=(QAK,),
        score=75, main="IPv4-Addr"),
    ind("Qakbot C2 pair",
        "[ipv4-addr:value = '203.0.113.32' OR ipv4-addr:value = '203.0.113.33']",
        labels=(QAK, TAN), score=80, main="IPv4-Addr"),
    ind("Qakbot loader (MD5 and size)", f"[file:hashes.MD5 = '{QAK_MD5}' AND file:size = 421888]",
        labels=(QAK, TAN), score=70, main="StixFile",
        description="AND of two properties: a flat list cannot hold it."),
    ind("Qakbot C2 then download", "[ipv4-addr:value = '203.0.113.30'] FOLLOWEDBY "
        "[url:value = 'http://203.0.113.30/wp-content/qak.dll']", labels=(QAK,), score=65),
    ind("Qakbot loader (SHA-256)", f"[file:hashes.'SHA-256' = '{QAK_SHA}']", labels=(QAK, TAN),
        score=85, main="StixFile", platforms=WIN),
    ind("Qakbot C2 beacon (snort)", SNORT, kind="snort", labels=(QAK,), score=70),
    ind("Qakbot loader download (suricata)", SURICATA, kind="suricata", labels=(QAK,), score=70),
    # Lifecycle: revoked, expired, detection off, TLP:RED, absent fields
    ind("Old Emotet C2 (revoked)", "[ipv4-addr:value = '192.0.2.50']", labels=(EMO, TAN),
        score=20, main="IPv4-Addr", revoked=True, detection=False,
        description="Revoked by the CTI team after sinkholing."),
    ind("Sinkholed domain (revoked)", "[domain-name:value = 'old-c2.example']",
        labels=(CS, TAN), score=20, main="Domain-Name", revoked=True),
    ind("False positive hash (revoked)",
        f"[file:hashes.'SHA-256' = '{digest('sha256', 'notepad')}']",
        labels=(RAN,), score=0, main="StixFile", revoked=True),
    ind("Expired phishing URL", "[url:value = 'http://old-login.example/verify']",
        labels=(PHI,), score=40, main="Url", until="2025-03-01T00:00:00.000Z"),
    ind("Expired Qakbot C2", "[ipv4-addr:value = '203.0.113.40']", labels=(QAK, TAN),
        score=50, main="IPv4-Addr", until="2025-09-15T00:00:00.000Z"),
    ind("Expired ransomware hash", f"[file:hashes.MD5 = '{digest('md5', 'ransom-2024')}']",
        labels=(RAN, TAN), score=60, main="StixFile", until="2025-12-31T00:00:00.000Z"),
    ind("Shared hosting IP (detection off)", "[ipv4-addr:value = '198.51.100.99']",
        labels=(PHI,), score=30, main="IPv4-Addr", detection=False,
        description="Shared hosting: kept for context, not for detection."),
    ind("Generic downloader hash (detection off)",
        f"[file:hashes.'SHA-256' = '{digest('sha256', 'generic-downloader')}']",
        labels=(EMO,), score=45, main="StixFile", detection=False),
    ind("Internal investigation IOC", "[ipv4-addr:value = '198.51.100.200']",
        labels=("internal-investigation", TAN), score=95, main="IPv4-Addr", tlp="RED",
        description="TLP:RED: must never leave OpenCTI unless a policy says allowRed."),
    ind("Unscored lookalike domain", "[domain-name:value = 'secure-update.test']",
        score=None, main="Domain-Name", detection=None,
        description="No score, no detection flag, no label: absent fields stay absent."),
    ind("Emotet C2 (low confidence)", "[ipv4-addr:value = '192.0.2.77']", labels=(EMO,),
        score=35, main="IPv4-Addr", confidence=15),
]

OBSERVABLES: list[dict[str, Any]] = [
    obs("ipv4-addr", "192.0.2.10", labels=(EMO,), score=85, description="Emotet C2"),
    obs("ipv4-addr", "192.0.2.11", labels=(EMO,), score=80),
    obs("ipv4-addr", "198.51.100.20", labels=(CS,), score=90, tlp="AMBER"),
    obs("ipv4-addr", "203.0.113.30", labels=(QAK,), score=85),
    obs("ipv6-addr", "2001:db8:0:20::1", labels=(CS,), score=85, tlp="AMBER"),
    obs("ipv6-addr", "2001:db8:abcd::7", score=40),
    obs("domain-name", "cdn-invoices.example", labels=(EMO,), score=85),
    obs("domain-name", "microsoft-verify.example", labels=(PHI,), score=80, tlp="CLEAR"),
    obs("domain-name", "Mixed-Case.Example", labels=(PHI,), score=50,
        description="Mixed case on purpose."),
    obs("hostname", "ws-fin-042.corp.example", labels=(RAN,), score=60,
        description="Finance workstation where the locker first ran."),
    obs("hostname", "build-agent-7.lab.test", score=30),
    obs("url", "http://cdn-invoices.example/inv/8812.doc", labels=(EMO,), score=85),
    obs("url", "https://login.microsoft-verify.example/owa/", labels=(PHI,), score=75),
    obs("file", hashes={"SHA-256": EMOTET_SHA, "MD5": EMOTET_MD5}, name="invoice_8812.doc",
        labels=(EMO, TAN), score=90, description="Emotet loader document"),
    obs("file", hashes={"SHA-256": RANSOM_SHA[0], "MD5": RANSOM_MD5}, name="locker.exe",
        labels=(RAN, TAN), score=95),
    obs("file", hashes={"SHA-1": CS_SHA1}, name="beacon_x64.dll", labels=(CS,), score=92,
        tlp="AMBER"),
    obs("file", hashes={"SHA-256": QAK_SHA, "MD5": QAK_MD5}, labels=(QAK,), score=85),
    obs("email-addr", "billing@invoices-dept.example", labels=(PHI,), score=50),
    obs("email-addr", "it-helpdesk@payroll-portal.test", labels=(PHI,), score=45),
    obs("ipv4-addr", "198.51.100.200", labels=("internal-investigation",), score=95, tlp="RED"),
]

# indicator pattern → the observable (value or SHA-256) it is based on
BASED_ON = {
    "[ipv4-addr:value = '192.0.2.10']": "192.0.2.10",
    "[ipv4-addr:value = '192.0.2.11']": "192.0.2.11",
    "[ipv4-addr:value = '198.51.100.20']": "198.51.100.20",
    "[ipv4-addr:value = '203.0.113.30']": "203.0.113.30",
    "[domain-name:value = 'cdn-invoices.example']": "cdn-invoices.example",
    "[url:value = 'http://cdn-invoices.example/inv/8812.doc']":
        "http://cdn-invoices.example/inv/8812.doc",
    f"[file:hashes.'SHA-256' = '{EMOTET_SHA}']": EMOTET_SHA,
}
# fmt: on
