"""Rendering is byte-deterministic: same input, same bytes — in one process and across
processes with different hash seeds (no set or dict order leaks into a body)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.render import convert, render_blocklist, render_intel

SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
ROOT = Path(__file__).resolve().parents[2]


def _objects() -> list[SourceObject]:
    indicator = {"entity_type": "Indicator", "name": "n é", "description": "d\nline"}
    patterns = [
        ("stix", "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1']"),
        ("stix", f"[file:hashes.'SHA-256' = '{SHA256}']"),
        ("stix", "[url:value IN ('http://a/', 'http://b/')] OR [file:name = 'x.exe']"),
        ("yara", 'rule r { strings: $a = "x" condition: $a }'),
        ("tanium-signal", "process.name is x"),
    ]
    objects = [
        SourceObject(
            standard_id=f"indicator--{i}",
            pattern_type=t,
            pattern=p,
            platforms=("Linux", "Windows", "macOS"),
            **indicator,
        )
        for i, (t, p) in enumerate(patterns)
    ]
    objects.append(
        SourceObject(
            standard_id="file--1",
            entity_type="StixFile",
            hashes={"SHA-256": SHA256, "MD5": MD5, "sha1": "a" * 40},
        )
    )
    objects.append(SourceObject(standard_id="d--1", entity_type="Domain-Name", value="B.Example"))
    return objects


def fingerprint() -> str:
    """A digest of everything rendered from `_objects()`."""
    out = hashlib.sha256()
    for obj in _objects():
        conversion = convert(obj)
        for candidate in conversion.intel:
            desired = render_intel(candidate)
            out.update(desired.model_dump_json().encode())
        for file in conversion.files:
            labels = ("zeta", "Alpha", "beta", "alpha")
            out.update(render_blocklist(file, labels=labels).model_dump_json().encode())
    return out.hexdigest()


def test_same_bytes_across_processes_with_different_hash_seeds() -> None:
    script = "from tests.render.test_render_determinism import fingerprint; print(fingerprint())"
    results = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        results.add(run.stdout.strip())
    assert results == {fingerprint()}


@settings(max_examples=50, deadline=None)
@given(
    st.permutations(["md5", "sha1", "sha256"]),
    st.permutations(["b", "A", "a", "c"]),
    st.permutations(["Windows", "Linux", "macOS"]),
)
def test_order_of_hashes_labels_and_platforms_does_not_matter(
    hash_order: list[str], labels: list[str], platforms: list[str]
) -> None:
    values = {"md5": MD5, "sha1": "a" * 40, "sha256": SHA256}
    obj = SourceObject(
        standard_id="file--1", entity_type="StixFile", hashes={k: values[k] for k in hash_order}
    )
    (file,) = convert(obj).files
    entry = render_blocklist(file, labels=tuple(labels))
    assert entry.notes.startswith("A, b, c [octi-tanium:v1 ")
    reference = render_blocklist(convert(obj.model_copy(update={"hashes": values})).files[0],
                                 labels=("a", "b", "c", "A"))  # fmt: skip
    assert entry == reference
    signal = SourceObject(
        standard_id="indicator--1",
        entity_type="Indicator",
        pattern="process.name is x",
        pattern_type="tanium-signal",
        platforms=tuple(platforms),
    )
    first = render_intel(convert(signal).intel[0])
    assert first.platforms == ("linux", "mac", "windows")
    assert first == render_intel(convert(signal).intel[0])
