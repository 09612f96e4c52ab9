"""The no-change comparison renders nothing the write journal vouches for, and the plan is
the same, byte for byte, whether documents are rendered eagerly, lazily, or not at all.

Over every scenario folder and every corpus bundle (with `desired/everything.yaml`) and the
emulator's demo seed, against Tanium as an apply left it, with drift, and with renamed
documents: the plan JSON of eagerly rendered documents (every `content` read before the
diff), of lazily rendered ones without a journal, with the journal the first pass learned,
and with a journal whose entries name other digests, are identical.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from octi_sandbox.opencti import DEMO_SEED

from controller.core.desired import DesiredState, build_desired
from controller.core.diff import make_plan
from controller.core.model import ActualState, DesiredIntel, SourceSnapshot, TaniumId
from controller.core.plan import to_json
from controller.policy.loader import load_policies
from controller.policy.located import PolicySet
from controller.sources.bundle import read_bundle
from tests.corpus_files import corpus_file, corpus_names
from tests.test_scenarios import CASES, NOW, as_applied

ROOT = Path(__file__).resolve().parents[2]
Journal = dict[TaniumId, tuple[str, str]]


def _inputs() -> list[tuple[str, Callable[[], tuple[PolicySet, SourceSnapshot, SourceSnapshot]]]]:
    out: list[tuple[str, Callable[[], tuple[PolicySet, SourceSnapshot, SourceSnapshot]]]] = []
    for case in CASES:

        def scenario(case: Path = case) -> tuple[PolicySet, SourceSnapshot, SourceSnapshot]:
            policies = load_policies(case / "policies.yaml").policies
            before = read_bundle(case / "before.json", now=NOW)
            return policies, before, read_bundle(case / "source.json", now=NOW)

        out.append((f"scenario:{case.name}", scenario))
    for name in [*corpus_names("stix/bundles", "*.json"), str(DEMO_SEED)]:

        def bundle(name: str = name) -> tuple[PolicySet, SourceSnapshot, SourceSnapshot]:
            policies = load_policies(ROOT / "desired").policies
            path = Path(name) if Path(name).is_absolute() else corpus_file(name)
            snapshot = read_bundle(path, now=NOW)
            return policies, snapshot, snapshot

        out.append((f"bundle:{Path(name).name}", bundle))
    return out


INPUTS = _inputs()


def _drifted(actual: ActualState) -> ActualState:
    """Every third document edited in Tanium, every fifth renamed, every seventh gone."""
    docs = []
    for n, doc in enumerate(actual.intel):
        if n % 7 == 6:
            continue
        if n % 3 == 0:
            doc = dataclasses.replace(doc, md5="0" * 32)
        if n % 5 == 0:
            doc = dataclasses.replace(doc, name=doc.name + " (renamed)")
        docs.append(doc)
    return actual.model_copy(update={"intel": tuple(docs)})


def _plan(
    policies: PolicySet,
    snapshot: SourceSnapshot,
    actual: ActualState,
    *,
    eager: bool = False,
    stored: Journal | None = None,
    learned: Journal | None = None,
) -> tuple[DesiredState, str]:
    desired = build_desired(policies, snapshot, now=NOW)
    if eager:
        for doc in desired.intel.values():
            assert doc.content is not None  # rendered now, before the diff
    plan = make_plan(
        desired,
        actual,
        settings=policies.settings,
        now=NOW,
        stored=stored,
        learned=learned,
    )
    return desired, to_json(plan)


@pytest.mark.parametrize(("name", "inputs"), INPUTS, ids=[n for n, _ in INPUTS])
@pytest.mark.parametrize("tanium", ["as-applied", "drifted"])
def test_the_plan_is_the_same_rendered_eagerly_lazily_or_from_the_journal(
    name: str,
    inputs: Callable[[], tuple[PolicySet, SourceSnapshot, SourceSnapshot]],
    tanium: str,
) -> None:
    policies, before, now = inputs()
    actual = as_applied(build_desired(policies, before, now=NOW))
    if tanium == "drifted":
        actual = _drifted(actual)
    _, eager = _plan(policies, now, actual, eager=True)
    learned: Journal = {}
    _, lazy = _plan(policies, now, actual, learned=learned)
    desired, journalled = _plan(policies, now, actual, stored=learned)
    wrong = {d.id: (d.md5, "f" * 16) for d in actual.intel}  # Tanium's md5, other content
    _, misled = _plan(policies, now, actual, stored=wrong)
    assert lazy == eager
    assert journalled == eager
    assert misled == eager
    owned = {d.intrinsic_id: d for d in actual.intel}
    kept = {i["key"] for i in plan_of(journalled) if i["action"] == "no-op"}
    vouched = 0
    for key, doc in desired.intel.items():  # a no-op the journal vouched for: never rendered
        have = owned.get(key)
        if key in kept and have is not None and learned.get(have.id) == (have.md5, doc.digest):
            assert not doc.rendered, key
            vouched += 1
    if tanium == "as-applied" and name.startswith("bundle:"):  # nothing changed: all of them
        assert vouched == len(desired.intel)


def test_the_journal_spares_every_rendering_of_a_no_change_pass() -> None:
    policies = load_policies(ROOT / "desired").policies
    snapshot = read_bundle(DEMO_SEED, now=NOW)
    actual = as_applied(build_desired(policies, snapshot, now=NOW))
    learned: Journal = {}
    first, _ = _plan(policies, snapshot, actual, learned=learned)
    assert first.intel and all(doc.rendered for doc in first.intel.values())
    assert learned == {  # every owned document, found in sync by its md5
        have.id: (have.md5, first.intel[have.intrinsic_id].digest)  # type: ignore[index]
        for have in actual.intel
    }
    again: Journal = {}
    second, _ = _plan(policies, snapshot, actual, stored=learned, learned=again)
    assert not any(doc.rendered for doc in second.intel.values())
    assert again == {}  # nothing new to learn


def test_a_deferred_document_is_indistinguishable_from_an_eager_one() -> None:
    policies = load_policies(ROOT / "desired").policies
    snapshot = read_bundle(DEMO_SEED, now=NOW)
    lazy = build_desired(policies, snapshot, now=NOW).intel
    types = set()
    for key, doc in lazy.items():
        twin = build_desired(policies, snapshot, now=NOW).intel[key] if not types else None
        types.add(doc.intel_type)
        fields = doc.model_dump()
        assert list(fields) == list(DesiredIntel.model_fields)  # the declared order
        eager = DesiredIntel(**fields)
        assert doc.model_dump(mode="json") == eager.model_dump(mode="json")
        assert doc.model_dump_json() == eager.model_dump_json()
        assert doc == eager and hash(doc) == hash(eager)
        if twin is not None:  # unrendered on both sides: compared by their rendering
            assert not twin.rendered
            assert twin == eager and twin.model_dump() == fields
        for made in (
            pickle.loads(pickle.dumps(lazy_copy(policies, snapshot, key))),
            copy.copy(lazy_copy(policies, snapshot, key)),
            copy.deepcopy(lazy_copy(policies, snapshot, key)),
            lazy_copy(policies, snapshot, key).model_copy(),
        ):
            assert made == eager and made.content == eager.content and made.md5 == eager.md5
    assert {"openioc", "yara", "tanium-signal"} <= types


def plan_of(text: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(text)["items"]
    return items


def lazy_copy(policies: PolicySet, snapshot: SourceSnapshot, key: str) -> DesiredIntel:
    """An unrendered document of `key` (a fresh build, so nothing has read it yet)."""
    doc = build_desired(policies, snapshot, now=NOW).intel[key]  # type: ignore[index]
    assert not doc.rendered
    return doc
