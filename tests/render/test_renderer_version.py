"""`RENDERER_VERSION` names the bytes the renderer gives: the write journal vouches for a
document only under the version it was recorded with. Change what is rendered for the same
canonical inputs and this test fails until the version is bumped and its fingerprint added —
otherwise the journal would keep vouching for documents Tanium holds in the old rendering."""

from __future__ import annotations

import hashlib

from controller.core.model import Key
from controller.render.intel import RENDERER_VERSION, render_intel
from controller.render.openioc import node, payload_of, term
from controller.render.types import IntelCandidate

FINGERPRINTS = {1: "8a92af50ad8e16e2"}
"""Renderer version → the fingerprint of `SAMPLES` rendered (add a line when bumping)."""

SAMPLES = (
    IntelCandidate(
        Key("ipv4-addr--4e3c5a0c-4a0b-5d8e-9f0a-1b2c3d4e5f60"),
        "openioc",
        "198.51.100.7",
        "C2 <server> & \"friends\" 'é' 😀",
        payload_of(term("PortItem/remoteIP", "IP", "198.51.100.7")),
    ),
    IntelCandidate(
        Key("indicator--0b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
        "openioc",
        "two of them",
        "",
        payload_of(
            node(
                "OR",
                [
                    term("Network/DNS", "string", "evil.example"),
                    node("AND", [term("FileItem/FileName", "string", "a&b.exe")]),
                    term("FileItem/Md5sum", "md5", "0" * 32),
                ],
            )
        ),
    ),
    IntelCandidate(
        Key("indicator--1b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
        "yara",
        "rule r",
        "a YARA rule",
        'rule r { strings: $a = "x" condition: $a }\n',
    ),
    IntelCandidate(
        Key("indicator--2b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
        "tanium-signal",
        "cmd",
        "a signal ünïcode",
        "process.name is 'cmd.exe'",
        ("linux", "windows"),
    ),
)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for terms in (None, {"PortItem/remoteIP": "Network/IP"}):
        for candidate in SAMPLES:
            doc = render_intel(candidate, terms)
            digest.update(f"{doc.intel_type}\0{doc.filename}\0{doc.content}\0{doc.md5}\0".encode())
    return digest.hexdigest()[:16]


def test_the_renderer_version_names_the_bytes_it_renders() -> None:
    assert RENDERER_VERSION in FINGERPRINTS, "add the new version's fingerprint"
    assert fingerprint() == FINGERPRINTS[RENDERER_VERSION], (
        f"the rendered bytes changed (fingerprint {fingerprint()}): bump RENDERER_VERSION in "
        "controller/render/intel.py and add its fingerprint here"
    )
