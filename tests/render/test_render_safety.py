"""Hostile names and descriptions never make a malformed request, and the marker survives.

For each document type the test reads the rendered document back the way Tanium (and the
emulator) does — XML root `id` / `short_description` / `description`, the signal's JSON `id`,
YARA's headers and file name — and checks that ownership is recovered from that alone.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from octi_sandbox.tanium.config import TaniumConfig
from octi_sandbox.tanium.formats import Upload
from octi_sandbox.tanium.intel import parse_upload

from controller.core.model import ActualBlocklist, ActualIntel, DesiredIntel, SourceObject, TaniumId
from controller.render import convert, render_blocklist, render_intel
from controller.render.marker import owned_blocklist_key, owned_intel_key
from controller.render.text import DESCRIPTION_LIMIT, NAME_LIMIT

HOSTILE = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=300),
    st.text(
        st.sampled_from("a\r\n\x00\x07\t\u2028\u202eé€😀\ud800\ufffe\x85 <&>]]>'\""), max_size=80
    ),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=5), st.integers(20_000, 25_000)),
)
PATTERNS = {
    "openioc": ("stix", "[domain-name:value IN ('a.example', 'b.example')]"),
    "yara": ("yara", 'rule r { strings: $a = "x" condition: $a }'),
    "tanium-signal": ("tanium-signal", "process.name is 'cmd.exe'"),
}
CONFIG = TaniumConfig()


def _desired(intel_type: str, name: str, description: str) -> DesiredIntel:
    pattern_type, pattern = PATTERNS[intel_type]
    obj = SourceObject(
        standard_id="indicator--9f0c8b7a-6d5e-4f3a-8b2c-1d0e9f8a7b6c",
        entity_type="Indicator",
        name=name,
        description=description,
        pattern=pattern,
        pattern_type=pattern_type,
        platforms=("Windows",),
    )
    (candidate,) = convert(obj).intel
    return render_intel(candidate)


def _upload(desired: DesiredIntel) -> Upload:
    body = desired.content.encode("utf-8")
    if desired.intel_type == "openioc":
        return Upload(body, "application/xml", "openioc", desired.filename)
    if desired.intel_type == "yara":
        return Upload(
            body, "application/octet-stream", "yara", desired.filename,
            desired.name, desired.description,
        )  # fmt: skip
    return Upload(body, "application/json")


def _header_safe(value: str) -> bool:
    value.encode("latin-1")  # raises when it is not
    return "\r" not in value and "\n" not in value and value == value.strip()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PATTERNS)), HOSTILE, HOSTILE)
def test_hostile_text_gives_safe_requests_and_a_round_tripping_marker(
    intel_type: str, name: str, description: str
) -> None:
    desired = _desired(intel_type, name, description)
    assert "\r" not in desired.description and "\n" not in desired.description
    assert len(desired.name) <= NAME_LIMIT
    assert len(desired.description) <= DESCRIPTION_LIMIT + 100
    if intel_type == "yara":
        assert _header_safe(desired.name) and _header_safe(desired.description)
        assert desired.name.isascii() and desired.description.isascii()
        intrinsic = desired.filename
    elif intel_type == "openioc":
        root = etree.fromstring(desired.content.encode("utf-8"))  # well-formed
        intrinsic = root.get("id")
        assert root.findtext("{*}short_description") == desired.name
        assert root.findtext("{*}description") == desired.description
    else:
        doc = json.loads(desired.content)
        intrinsic = doc["id"]
        assert doc["description"] == desired.description
    desired.content.encode("utf-8")  # no lone surrogates
    reported = ActualIntel(id=TaniumId(1), description=desired.description, intrinsic_id=intrinsic)
    assert owned_intel_key(reported) == desired.key

    parsed = parse_upload(_upload(desired), CONFIG)  # what the emulator stores and reports
    assert (parsed.name, parsed.description) == (desired.name, desired.description)
    assert parsed.md5 == desired.md5
    stored = ActualIntel(
        id=TaniumId(1), description=parsed.description, intrinsic_id=parsed.intrinsic_id
    )
    assert owned_intel_key(stored) == desired.key


@settings(max_examples=40, deadline=None)
@given(st.lists(HOSTILE, max_size=4))
def test_hostile_labels_give_single_line_notes_with_the_marker(labels: list[str]) -> None:
    obj = SourceObject(
        standard_id="file--1",
        entity_type="StixFile",
        hashes={"MD5": "d41d8cd98f00b204e9800998ecf8427e"},
    )
    (file,) = convert(obj).files
    entry = render_blocklist(file, labels=tuple(labels))
    assert "\n" not in entry.notes and "\r" not in entry.notes and "\x00" not in entry.notes
    stored = ActualBlocklist(id=TaniumId(1), md5=entry.md5, notes=entry.notes)
    assert owned_blocklist_key(stored) == file.key
