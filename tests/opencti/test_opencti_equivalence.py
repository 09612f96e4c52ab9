"""`--source opencti` against a seeded emulator reads exactly what `--source bundle:` reads.

For every STIX bundle of the corpus (tests/corpus/) and the demo seed: seed the emulator with
the file, fetch with the "everything" policy over real HTTP, and compare with
`controller.sources.bundle.read_bundle` on the same file, object by object, field by field.
The internal id is compared only where the bundle carries one (plain STIX has none).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from octi_sandbox.opencti import DEMO_SEED

from controller.core.model import SourceObject
from controller.policy.loader import PolicySet
from controller.sources.bundle import read_bundle
from tests.corpus_files import MISSING, corpus_names, require

from .conftest import NOW, Served, settings_for

BUNDLES = [*corpus_names("stix/bundles", "*.json"), DEMO_SEED]


def _fields(obj: SourceObject, *, internal_id: bool) -> dict[str, object]:
    data = obj.model_dump()
    if not internal_id:
        data.pop("internal_id")
    return data


def assert_same_objects(expected: list[SourceObject], actual: list[SourceObject]) -> None:
    expected = sorted(expected, key=lambda o: o.standard_id)
    assert [o.standard_id for o in actual] == [o.standard_id for o in expected]
    for want, got in zip(expected, actual, strict=True):
        with_id = want.internal_id is not None
        assert _fields(got, internal_id=with_id) == _fields(want, internal_id=with_id), (
            want.standard_id
        )


def test_the_corpus_is_there() -> None:
    assert MISSING not in BUNDLES and len(BUNDLES) >= 10, "no STIX bundles under tests/corpus/"


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: Path(p).name)
def test_fetch_equals_bundle_source(
    bundle: str | Path, served: Served, everything: PolicySet
) -> None:
    path = bundle if isinstance(bundle, Path) else require(bundle)
    served.state.seed(json.loads(path.read_bytes()))
    expected = list(read_bundle(path, now=NOW).objects)
    snapshot = served.fetch(everything)
    assert snapshot.complete, snapshot.incomplete_reasons
    assert snapshot.snapshot_time == NOW
    assert_same_objects(expected, list(snapshot.objects))


@pytest.mark.parametrize("page_size", [1, 7, 5000])
def test_page_size_does_not_change_the_result(
    page_size: int, served: Served, everything: PolicySet
) -> None:
    served.state.seed(json.loads(DEMO_SEED.read_bytes()))
    expected = list(read_bundle(DEMO_SEED, now=NOW).objects)
    before = served.state.requests["total"]
    snapshot = served.fetch(everything, page_size=page_size)
    assert snapshot.complete, snapshot.incomplete_reasons
    assert_same_objects(expected, list(snapshot.objects))
    if page_size == 1:
        assert served.state.requests["total"] - before > len(expected)


def test_fetch_is_deterministic(served: Served, everything: PolicySet) -> None:
    served.state.seed(json.loads(DEMO_SEED.read_bytes()))
    first = served.fetch(everything)
    second = served.fetch(everything, settings=settings_for(served.url))
    assert first == second
    assert first.query_hash.startswith("opencti:")
