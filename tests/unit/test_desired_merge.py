"""Merging keeps a key's first contribution as it came (the object's labels tuple, 1-tuples,
its datetime) and makes sets and text only when a second one needs them: whatever the
contributions, a merge holds the values the plain set-and-`max` merge gives, and finishes to
the same sorted tuples and label names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.desired import (
    DesiredState,
    LabelSets,
    Merge,
    _first,
    _note,
    _sorted,
    add_file,
    add_intel,
    build_desired,
    merge_same_files,
)
from controller.core.diagnostics import Position
from controller.core.labels import merge_labels
from controller.core.model import Key, SourceObject, SourceSnapshot
from controller.core.reasons import Reason
from controller.policy.located import Located, PolicySet
from controller.policy.models import Exclusion, IntelPolicy
from controller.render.types import FileCandidate, IntelCandidate

HERE = Position("t.yaml", 1, 1)
LABELS = st.lists(st.sampled_from(["emotet", "Emotet", "qakbot", " x ", "a,b", ""]), max_size=3)
WHEN = st.none() | st.builds(
    lambda hours, offset, micro: (
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=offset)))
        + timedelta(hours=hours, microseconds=micro)
    ),
    st.integers(0, 48),
    st.sampled_from([0, 2, -5]),
    st.sampled_from([0, 1, 500000]),
)


def policy(
    name: str, labels: list[str], platforms: list[str], priority: int, drift: str
) -> Located:
    intel: dict[str, Any] = {"labels": labels, "platforms": platforms}
    return Located(
        IntelPolicy.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "IntelPolicy",
                "metadata": {"name": name},
                "spec": {
                    "select": {},
                    "target": {"intel": intel, "blocklist": {}},
                    "priority": priority,
                    "drift": drift,
                },
            }
        ),
        HERE,
    )


POLICIES = st.builds(
    policy,
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.sampled_from(["emotet", "Emotet", "tanium"]), max_size=2),
    st.lists(st.sampled_from(["windows", "linux"]), max_size=2),
    st.integers(0, 3),
    st.sampled_from(["correct", "warn"]),
)
OBJECTS = st.builds(
    lambda n, labels, score, modified, created: SourceObject(
        standard_id=f"indicator--{n}",
        entity_type="Indicator",
        labels=tuple(labels),
        score=score,
        modified=modified,
        created=created,
    ),
    st.integers(0, 3),
    LABELS,
    st.none() | st.integers(-2, 100),
    WHEN,
    WHEN,
)


@dataclass
class Reference:
    """The plain merge: sets, `max`, ISO text from the start."""

    labels: set[str] = field(default_factory=set)
    platforms: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    policies: set[str] = field(default_factory=set)
    priority: int = 0
    score: int = -1
    modified: str = ""
    corrects_drift: bool = False

    def add(self, obj: SourceObject, located: Located, intel: bool) -> None:
        doc = located.document
        assert isinstance(doc, IntelPolicy)
        spec = doc.spec
        self.labels.update(obj.labels)
        if intel:
            assert spec.target.intel is not None
            self.labels.update(spec.target.intel.labels)
            self.platforms.update(spec.target.intel.platforms)
        self.sources.add(obj.standard_id)
        self.policies.add(doc.metadata.name)
        self.priority = max(self.priority, spec.priority)
        self.corrects_drift |= spec.drift == "correct"
        self.score = max(self.score, obj.score if obj.score is not None else -1)
        when = obj.modified or obj.created
        self.modified = max(self.modified, when.isoformat() if when is not None else "")


def same(merge: Merge, ref: Reference) -> None:
    assert set(merge.labels) == ref.labels
    assert set(merge.platforms) == ref.platforms
    assert set(merge.sources) == ref.sources and set(merge.policies) == ref.policies
    assert _sorted(merge.sources) == tuple(sorted(ref.sources))
    assert _sorted(merge.policies) == tuple(sorted(ref.policies))
    assert (merge.priority, merge.score, merge.modified, merge.corrects_drift) == (
        ref.priority,
        ref.score,
        ref.modified,
        ref.corrects_drift,
    )
    assert LabelSets()(merge.labels) == merge_labels(ref.labels)


INTEL = [IntelCandidate(Key(f"url--{n}"), "openioc", f"u{n}", "", "{}") for n in range(2)]
FILES = [FileCandidate(Key(f"file--{n}"), {"md5": f"{n}" * 32}, f"f{n}") for n in range(2)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), OBJECTS, POLICIES), min_size=1, max_size=6))
def test_a_merge_holds_what_the_plain_merge_holds(
    contributions: list[tuple[int, SourceObject, Located]],
) -> None:
    intel: dict[Key, Merge] = {}
    files: dict[Key, Merge] = {}
    refs: dict[Key, Reference] = {}
    for which, obj, located in contributions:
        if which < 2:
            candidate = INTEL[which]
            add_intel(intel, candidate, obj, located)
            refs.setdefault(candidate.key, Reference()).add(obj, located, intel=True)
        else:
            file = FILES[which - 2]
            add_file(files, file, obj, located)
            refs.setdefault(file.key, Reference()).add(obj, located, intel=False)
    assert intel.keys() | files.keys() == refs.keys()
    for key, merge in (intel | files).items():
        same(merge, refs[key])


@settings(max_examples=200, deadline=None)
@given(OBJECTS, POLICIES, LABELS)
def test_a_first_contribution_is_a_noted_merge(
    obj: SourceObject, located: Located, labels: list[str]
) -> None:
    doc = located.document
    assert isinstance(doc, IntelPolicy)
    noted = Merge(INTEL[0], tuple(labels))
    _note(noted, obj, located, doc.spec)
    first = _first(INTEL[0], tuple(labels), obj, located, doc.spec)
    assert first.modified == noted.modified
    first.stamp = noted.stamp = ""  # a datetime or its text: compared as text above
    assert set(first.sources) == set(noted.sources) and set(first.policies) == set(noted.policies)
    first.sources, first.policies = noted.sources, noted.policies
    assert first == noted


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(OBJECTS, POLICIES), min_size=2, max_size=4))
def test_files_sharing_a_hash_merge_as_plain_sets(
    contributions: list[tuple[SourceObject, Located]],
) -> None:
    """An MD5-only file and the MD5+SHA-256 one: one entry with everything of both."""
    md5 = "a" * 32
    both = FileCandidate(Key("file--both"), {"md5": md5, "sha256": "b" * 64}, "both")
    only = FileCandidate(Key("file--md5"), {"md5": md5}, "md5")
    files: dict[Key, Merge] = {}
    ref = Reference()
    for n, (obj, located) in enumerate(contributions):
        add_file(files, (both, only)[n % 2], obj, located)
        ref.add(obj, located, intel=False)
    (merged,) = merge_same_files(files, DesiredState()).values()
    same(merged, ref)


def test_a_stamp_of_another_zone_compares_as_its_text() -> None:
    """ISO text is compared, as before: 10:00+02:00 is later text than 09:00+00:00."""
    a = SourceObject(standard_id="indicator--1", entity_type="Indicator")
    later_text = a.model_copy(
        update={"modified": datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))}
    )
    later_time = a.model_copy(
        update={"standard_id": "indicator--2", "modified": datetime(2026, 1, 1, 9, tzinfo=UTC)}
    )
    located = policy("a", [], [], 0, "correct")
    merges: dict[Key, Merge] = {}
    for obj in (later_text, later_time):
        add_intel(merges, INTEL[0], obj, located)
    assert merges[INTEL[0].key].modified == "2026-01-01T10:00:00+02:00"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["md5", "sha1", "sha256"]), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_files_sharing_no_hash_stay_as_they_are_in_key_order(
    algorithms: list[str], random: Any, share: bool
) -> None:
    """Without a shared hash every file is its own entry (the same merge), in key order;
    with one, the others are still their own entries, in that order."""
    files = {
        Key(f"file--{n:02d}"): Merge(
            FileCandidate(Key(f"file--{n:02d}"), {algorithm: f"{n:02d}" * 16}, f"f{n}")
        )
        for n, algorithm in enumerate(algorithms)
    }
    if share:  # one more file with the first one's hash and another: merged with it
        first = next(iter(files.values())).candidate
        assert isinstance(first, FileCandidate)
        extra = FileCandidate(Key("file--zz"), {**first.hashes, "sha512": "e" * 128}, "zz")
        files[extra.key] = Merge(extra)
    items = list(files.items())
    random.shuffle(items)
    merged = merge_same_files(dict(items), DesiredState())
    alone = [key for key in sorted(files) if not share or key not in ("file--00", "file--zz")]
    assert [key for key in merged if key in alone] == alone
    assert all(merged[key] is files[key] for key in alone)
    assert len(merged) == len(files) - share


def test_a_file_whose_other_hash_is_an_excluded_objects_is_not_synced() -> None:
    """No Exclusion names a hash, yet an object excluded by its label takes its file's every
    hash with it: the same file from another indicator is excluded too."""
    md5, sha256 = "d41d8cd98f00b204e9800998ecf8427e", "e3" * 32
    exclusion = Located(
        Exclusion.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "Exclusion",
                "metadata": {"name": "benign"},
                "spec": {"labels": ["benign"], "reason": "known good"},
            }
        ),
        HERE,
    )
    observable = SourceObject(
        standard_id="file--1",
        entity_type="StixFile",
        hashes={"MD5": md5, "SHA-256": sha256},
        labels=("benign",),
    )
    indicator = SourceObject(
        standard_id="indicator--2",
        entity_type="Indicator",
        pattern=f"[file:hashes.MD5 = '{md5}']",
        pattern_type="stix",
        name="md5",
    )
    plain = policy("a", [], [], 0, "correct")
    state = build_desired(
        PolicySet(intel_policies=(plain,), exclusions=(exclusion,)),
        SourceSnapshot(objects=(observable, indicator)),
        now=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert state.excluded_hashes and not state.blocklist
    assert [s.reason for s in state.skipped] == [Reason.EXCLUDED, Reason.EXCLUDED]
