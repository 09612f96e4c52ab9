"""`merge_outcomes` makes a key's first contribution itself, flat, from its policy's facts
looked up once per pass: whatever the outcomes (keys met again, policies with and without
labels, platforms, quick scans or an intel target, skipped objects), the merges, the state
and their order are those `add_intel` and `add_file` make of the same contributions."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.desired import DesiredState, Merge, add_file, add_intel, merge_outcomes, record
from controller.core.diagnostics import Diagnostic
from controller.core.model import Key, SourceObject
from controller.core.outcome import Outcome, SkippedObject
from controller.core.reasons import Reason
from controller.policy.located import Located
from controller.policy.models import IntelPolicy
from tests.unit.test_desired_merge import FILES, HERE, INTEL, OBJECTS


def policy(
    name: str,
    labels: list[str],
    platforms: list[str],
    groups: list[str],
    intel: bool,
    priority: int,
    drift: str,
) -> Located:
    target: dict[str, Any] = {"blocklist": {}}
    if intel:
        target["intel"] = {"labels": labels, "platforms": platforms}
        if groups:
            target["quickScan"] = {"computerGroups": groups}
    return Located(
        IntelPolicy.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "IntelPolicy",
                "metadata": {"name": name},
                "spec": {"select": {}, "target": target, "priority": priority, "drift": drift},
            }
        ),
        HERE,
    )


POLICIES = st.builds(
    policy,
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.sampled_from(["emotet", "Emotet", "tanium"]), max_size=2),
    st.lists(st.sampled_from(["windows", "linux"]), max_size=2),
    st.lists(st.sampled_from(["g1", "g2"]), max_size=2),
    st.booleans(),
    st.integers(0, 3),
    st.sampled_from(["correct", "warn"]),
)


@st.composite
def outcomes(draw: st.DrawFn) -> list[Outcome | None]:
    located = draw(st.lists(POLICIES, min_size=1, max_size=3))  # shared by the outcomes
    out: list[Outcome | None] = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 5)) == 0:
            out.append(None)  # no policy selected the object
            continue
        obj: SourceObject = draw(OBJECTS)
        chosen = [located[draw(st.integers(0, len(located) - 1))] for _ in range(2)]
        intel = tuple(
            (INTEL[draw(st.integers(0, 1))], p)
            for p in chosen[: draw(st.integers(0, 2))]
            if p.document.spec.target.intel is not None  # type: ignore[union-attr]
        )
        files = tuple(
            (FILES[draw(st.integers(0, 1))], p) for p in chosen[: draw(st.integers(0, 2))]
        )
        skipped = None
        diagnostics: tuple[Diagnostic, ...] = ()
        if draw(st.booleans()) and not intel and not files:
            skipped = SkippedObject(obj.standard_id, Reason.EXPIRED, "n")
            diagnostics = (Diagnostic.warning("w", key=obj.standard_id),)
        gone = (Key("url--9"),) if skipped is not None else ()
        out.append(Outcome(obj, diagnostics, skipped, gone, intel=intel, files=files))
    return out


@settings(max_examples=300, deadline=None)
@given(outcomes())
def test_merging_outcomes_is_adding_each_contribution(items: list[Outcome | None]) -> None:
    state, intel, files = DesiredState(), dict[Key, Merge](), dict[Key, Merge]()
    merge_outcomes(items, state, intel, files)
    ref_state, ref_intel, ref_files = DesiredState(), dict[Key, Merge](), dict[Key, Merge]()
    for outcome in items:
        if outcome is None:
            continue
        record(ref_state, outcome)
        for candidate, located in outcome.intel:
            add_intel(ref_intel, candidate, outcome.obj, located)
        for file, located in outcome.files:
            add_file(ref_files, file, outcome.obj, located)
    assert list(intel.items()) == list(ref_intel.items())
    assert list(files.items()) == list(ref_files.items())
    for key, merge in intel.items():  # sets of each merge's own, never shared
        for other in intel.values():
            if other is not merge:
                assert (
                    not isinstance(merge.platforms, set) or merge.platforms is not other.platforms
                )
                assert not isinstance(merge.scan_groups, set) or (
                    merge.scan_groups is not other.scan_groups
                )
                assert not isinstance(merge.labels, set) or merge.labels is not other.labels
        assert isinstance(key, str)
    assert state == ref_state
