"""Seeds: `empty` (just "All Computers") and `demo` (a realistic Tanium a controller must share).

The demo holds computer groups, labels, two foreign intel sources ("Manual" and "Tanium
Signals") with documents of every type, reputation entries and alerts, none of them created by
the controller: a correct controller never modifies them.
"""

from __future__ import annotations

import json
from datetime import timedelta

from .alerts import make_alert
from .config import TaniumConfig
from .docs import attach_label, new_doc
from .formats import Upload
from .intel import parse_upload
from .reputation import HashUpload, consolidate
from .state import TaniumState

ZIPFLDR_SIGNAL = {
    "id": "Zipfldr Library Proxy Execution via RouteTheCall",
    "name": "Zipfldr Library Proxy Execution via RouteTheCall",
    "description": "Detects the use of rundll32.exe to execute the RouteTheCall function in "
    "zipfldr.dll. This can be used for proxy execution to bypass AppLocker or to execute an "
    "arbitrary binary.",
    "contents": "process.path ends with '\\\\rundll32.exe' AND process.command_line contains "
    "'zipfldr' AND process.command_line contains 'RouteTheCall'",
    "syntax_version": 1,
    "mitreAttack": {
        "techniques": [
            {"id": "T1218", "name": "Signed Binary Proxy Execution"},
            {"id": "T1218.011", "name": "Signed Binary Proxy Execution: Rundll32"},
            {"id": "T1059", "name": "Command and Scripting Interpreter"},
            {"id": "T1059.003", "name": "Command and Scripting Interpreter: Windows Command Shell"},
        ]
    },
    "platforms": ["windows"],
}
"""The real signal of `corpus/tanium/signals/zipfldr-routethecall.signal.json`."""

ENCODED_POWERSHELL_SIGNAL = {
    "name": "Encoded PowerShell command line",
    "description": "PowerShell started with an encoded command.",
    "contents": "process.path ends with '\\\\powershell.exe' AND (process.command_line contains "
    "'-enc' OR process.command_line contains '-EncodedCommand')",
    "platforms": ["windows"],
}

DEMO_OPENIOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="b5c1a3e2-6f0d-4a8e-9c11-3b2f7d5e8a01"
     last-modified="2024-03-11T09:30:00">
  <short_description>Cobalt Strike default named pipes</short_description>
  <description>Named pipes used by default Cobalt Strike beacons.</description>
  <authored_by>SOC</authored_by>
  <authored_date>2024-03-11T09:30:00</authored_date>
  <definition>
    <Indicator operator="OR" id="e0a8c2f4-1b3d-4e5f-8a9b-0c1d2e3f4a5b">
      <IndicatorItem id="c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f" condition="contains">
        <Context document="ProcessItem" search="ProcessItem/HandleList/Handle/Name" type="mir"/>
        <Content type="string">\\MSSE-</Content>
      </IndicatorItem>
    </Indicator>
  </definition>
</ioc>
"""

DEMO_STIX = b"""<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"
    xmlns:indicator="http://stix.mitre.org/Indicator-2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:acme="http://acme.example" id="acme:Package-7f1c2d3e" version="1.2">
  <stix:Indicators>
    <stix:Indicator id="acme:indicator-5a6b7c8d" timestamp="2024-05-02T09:00:00Z"
        xsi:type="indicator:IndicatorType">
      <indicator:Title>Known phishing domain (vendor feed)</indicator:Title>
      <indicator:Description>Domain from a commercial phishing feed.</indicator:Description>
    </stix:Indicator>
  </stix:Indicators>
</stix:STIX_Package>
"""

DEMO_YARA = b"""rule Mimikatz_Strings {
  meta:
    author = "SOC"
  strings:
    $a = "sekurlsa::logonpasswords" ascii wide
    $b = "gentilkiwi" ascii wide
  condition:
    any of them
}
"""

DEMO_GROUPS = ("All Computers", "Windows Servers", "Linux Servers", "Pilot Endpoints")
DEMO_LABELS = (
    ("Critical", "Investigate immediately"),
    ("APT", "Advanced persistent threat activity"),
    ("Ransomware", "Ransomware families and tooling"),
    ("Tanium Curated", "Intel curated by Tanium"),
    ("Pilot", "Intel under evaluation"),
)


def apply_seed(state: TaniumState, config: TaniumConfig) -> None:
    with state.lock:
        state.add_group("All Computers", 1)
        if config.seed == "demo":
            _demo(state, config)
        state.undeployed_changes = 0


def _demo(state: TaniumState, config: TaniumConfig) -> None:
    for name in DEMO_GROUPS[1:]:
        state.add_group(name)
    labels = {name: state.add_label(name, text).id for name, text in DEMO_LABELS}
    manual = state.add_source("Manual", "user", "Intel added by analysts in the console")
    signals = state.add_source("Tanium Signals", "tanium-signals", "Signals published by Tanium")
    uploads = [
        (
            signals.id,
            Upload(json.dumps(ZIPFLDR_SIGNAL).encode(), "application/json"),
            ["Tanium Curated"],
        ),
        (
            signals.id,
            Upload(json.dumps(ENCODED_POWERSHELL_SIGNAL).encode(), "application/json"),
            ["Tanium Curated", "Critical"],
        ),
        (manual.id, Upload(DEMO_OPENIOC, "application/xml", "openioc"), ["APT"]),
        (manual.id, Upload(DEMO_STIX, "application/xml", "stix"), []),
        (
            manual.id,
            Upload(
                DEMO_YARA,
                "application/octet-stream",
                "yara",
                "mimikatz.yara",
                "Mimikatz strings",
                "Strings of the Mimikatz credential dumper",
            ),
            ["Critical", "Pilot"],
        ),
    ]
    doc_ids = []
    for source_id, upload, names in uploads:
        doc = new_doc(state, source_id, parse_upload(upload, config))
        for name in names:
            attach_label(state, config, doc, labels[name])
        doc_ids.append(doc.id)
    for hashes, notes, list_name in (
        ({"md5": "44d88612fea8a8f36de82e1278abb02f"}, "EICAR test file (SOC)", "blacklist"),
        (
            {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            "Empty file, allowed",
            "whitelist",
        ),
        (
            {
                "md5": "5f4dcc3b5aa765d61d8327deb882cf99",
                "sha1": "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
            },
            "VirusTotal import",
            "blacklist",
        ),
    ):
        consolidate(state, HashUpload(list_name, hashes, next(iter(hashes.values())), notes))
    now = state.clock()
    for n, (doc_index, alert_state) in enumerate(
        (
            (0, "unresolved"),
            (0, "resolved"),
            (1, "inprogress"),
            (1, "unresolved"),
            (2, "suppressed"),
            (4, "unresolved"),
        )
    ):
        moment = now - timedelta(hours=6 * (6 - n))
        make_alert(
            state,
            {
                "intelDocId": doc_ids[doc_index],
                "state": alert_state,
                "alertedAt": moment.isoformat(),
                "computerName": f"ws-{n + 1:03d}.corp.example",
            },
        )
