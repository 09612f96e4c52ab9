"""`read_bundle_apart`: a large bundle read by a forked child gives the very snapshot the
in-process read gives; a failing child, another thread, a small bundle, all read in-process.

Each case runs in a fresh interpreter (`python -c`): the test process may hold threads of
its own (emulators served in threads), and the module forks only a process that has none."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_files import corpus_json
from tests.run.harness import domains, write_bundle

CORPUS_BUNDLES = (
    "stix/bundles/opencti-client-python/DATA-TEST-STIX2_v2.json",
    "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json",
)

PROBE = """
import asyncio, json, os, sys, threading
from datetime import UTC, datetime
from pathlib import Path

from controller.errors import UserError
from controller.sources import bundle_apart
from controller.sources.bundle import read_bundle

path, threshold, case = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = datetime(2026, 11, 29, tzinfo=UTC)
forked = []
fork_reader = bundle_apart._fork_reader


def spy(*args):
    pid, pipe = fork_reader(*args)
    forked.append(pid)
    return pid, pipe


bundle_apart._fork_reader = spy
parent = os.getpid()
if case == "child fails":
    real = bundle_apart.read_bundle

    def failing(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(*args, **kwargs)

    bundle_apart.read_bundle = failing
if case == "threaded":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()


def outcome(read):
    try:
        snapshot = read()
    except UserError as exc:
        return {"error": str(exc)}
    return {
        "objects": [o.model_dump(mode="json") for o in snapshot.objects],
        "dicts": [list(o.__dict__) for o in snapshot.objects],
        "complete": snapshot.complete,
        "reasons": list(snapshot.incomplete_reasons),
        "query_hash": snapshot.query_hash,
        "time": str(snapshot.snapshot_time),
    }


apart = outcome(
    lambda: asyncio.run(bundle_apart.read_bundle_apart(path, now=now, threshold=threshold))
)
here = outcome(lambda: read_bundle(path, now=now))
print(json.dumps({"forked": len(forked), "same": apart == here, "apart": apart}))
"""


def probe(path: Path, threshold: int = 0, case: str = "") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), str(path), str(threshold), case],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """Real bundles' objects (tests/corpus: indicators, observables, markings, relations)
    and 300 labelled domain indicators, in one file."""
    objects = [o for name in CORPUS_BUNDLES for o in corpus_json(name)["objects"]]
    return write_bundle(tmp_path / "bundle.json", [*objects, *domains(300)])


def test_a_forked_read_gives_the_in_process_snapshot(bundle: Path) -> None:
    result = probe(bundle)
    assert result["forked"] == 1
    assert result["same"], "the same objects, fields in the same order, flags and hash"
    assert len(result["apart"]["objects"]) > 10


def test_a_failing_child_is_read_again_in_process(bundle: Path) -> None:
    result = probe(bundle, case="child fails")
    assert result["forked"] == 1
    assert result["same"]


def test_an_invalid_bundle_says_what_is_wrong_as_before(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle", "objects": [{"type": "indicator",}]}')
    result = probe(broken)
    assert result["same"]
    assert "invalid JSON" in result["apart"]["error"]


def test_a_missing_bundle_says_so_as_before(tmp_path: Path) -> None:
    result = probe(tmp_path / "nowhere.json")
    assert result["forked"] == 0
    assert result["same"] and "cannot read bundle" in result["apart"]["error"]


def test_a_threaded_process_or_a_small_bundle_is_read_in_process(bundle: Path) -> None:
    assert probe(bundle, case="threaded")["forked"] == 0
    small = probe(bundle, threshold=bundle.stat().st_size + 1)
    assert small["forked"] == 0 and small["same"]
