"""The incremental fetch gives the snapshot a full fetch gives, over real HTTP against the
OpenCTI emulator: random change sequences (creates, field patches, revocations, label changes,
deletes, merges, objects leaving and entering the policies' filters, the clock past expiry),
each followed by an incremental fetch compared with a full one — objects, order, completeness,
query hash, and the desired state built from them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from octi_sandbox.opencti import DEFAULT_TOKEN
from octi_sandbox.opencti.server import serve_opencti
from octi_sandbox.opencti.state import OpenCTIState

from controller.core.desired import build_desired
from controller.core.model import SourceSnapshot
from controller.policy.located import PolicySet
from controller.sources.opencti import fetch_snapshot
from controller.sources.opencti import incremental as incremental_module
from controller.sources.opencti.incremental import (
    FORMAT,
    FetchReport,
    IncrementalSettings,
    fetch_reported,
    forget,
    hint_gone,
    snapshot_path,
)
from controller.sources.opencti.incremental import _decode as decode
from controller.sources.opencti.incremental import _encode as encode
from controller.sources.opencti.incremental import _gone as gone
from controller.sources.opencti.incremental import _memory as memory
from controller.sources.opencti.mapping import indicator_from_node, observable_from_node
from controller.sources.opencti.settings import OpenCTISettingsError
from controller.sources.opencti.stream import parse_event
from tests.opencti.conftest import NOW, policy_set, settings_for

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
LABELS = ("malware", "benign", "c2")

INDICATOR_ADD = """mutation IndicatorAdd($input: IndicatorAddInput!) {
  indicatorAdd(input: $input) { id } }"""
OBSERVABLE_ADD = """mutation ObservableAdd($type: String!, $IPv4Addr: IPv4AddrAddInput,
  $DomainName: DomainNameAddInput, $x_opencti_score: Int, $objectLabel: [String]) {
  stixCyberObservableAdd(type: $type, IPv4Addr: $IPv4Addr, DomainName: $DomainName,
    x_opencti_score: $x_opencti_score, objectLabel: $objectLabel) { id } }"""
EDIT = {
    True: "stixDomainObjectEdit",
    False: "stixCyberObservableEdit",
}
FIELD_PATCH = """mutation Patch($id: ID!, $input: [EditInput]!) {
  %s(id: $id) { fieldPatch(input: $input) { id } } }"""
RELATION_ADD = """mutation LabelOn($id: ID!, $input: StixRefRelationshipAddInput!) {
  %s(id: $id) { relationAdd(input: $input) { id } } }"""
RELATION_DELETE = """mutation LabelOff($id: ID!, $toId: StixRef!, $type: String!) {
  %s(id: $id) { relationDelete(toId: $toId, relationship_type: $type) { id } } }"""
DELETE = """mutation Delete($id: ID!) { %s(id: $id) { delete } }"""
MERGE = """mutation Merge($id: ID!, $sources: [String]!) {
  stixEdit(id: $id) { merge(stixObjectsIds: $sources) { id } } }"""

# Two policies: indicators with a label and a minimum score (a revocation or a score patch
# moves one out of the listing), and addresses and domains without the label `benign`.
POLICIES = policy_set(
    {"entityTypes": ["Indicator"], "labels": {"anyOf": ["malware", "c2"]}, "minScore": 40},
    {"entityTypes": ["IPv4-Addr", "Domain-Name"], "labels": {"noneOf": ["benign"]}},
)
EXACT = IncrementalSettings(enabled=True, full_every=1_000, overlap=timedelta(0))


@pytest.fixture(scope="module")
def opencti() -> Iterator[tuple[str, OpenCTIState]]:
    with serve_opencti() as served:
        yield served


def gql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    reply = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=AUTH, timeout=30
    )
    reply.raise_for_status()
    body = reply.json()
    assert not body.get("errors"), body["errors"]
    return dict(body["data"])


def incremental(
    url: str, policies: PolicySet = POLICIES, options: IncrementalSettings = EXACT
) -> tuple[SourceSnapshot, FetchReport]:
    return asyncio.run(
        fetch_reported(settings_for(url), policies, now=NOW, page_size=3, options=options)
    )


def full(url: str, policies: PolicySet = POLICIES) -> SourceSnapshot:
    return asyncio.run(fetch_snapshot(settings_for(url), policies, now=NOW, page_size=3))


def same(one: SourceSnapshot, other: SourceSnapshot) -> None:
    assert [o.standard_id for o in one.objects] == [o.standard_id for o in other.objects]
    assert one.objects == other.objects
    assert (one.complete, one.incomplete_reasons, one.query_hash) == (
        other.complete,
        other.incomplete_reasons,
        other.query_hash,
    )


# ---------------------------------------------------------------------------- the changes


class World:
    """The objects created so far (internal id, is it an indicator), and the steps on them."""

    def __init__(self, url: str, state: OpenCTIState) -> None:
        self.url = url
        self.state = state
        self.made = 0

    def alive(self) -> list[tuple[str, bool]]:
        return [
            (record["id"], record["entity_type"] == "Indicator")
            for record in self.state.store.entities.values()
        ]

    def pick(self, index: int) -> tuple[str, bool] | None:
        alive = sorted(self.alive())
        return alive[index % len(alive)] if alive else None

    def create(self, kind: str, labels: list[str], score: int, days: int) -> None:
        self.made += 1
        n = self.made
        if kind == "indicator":
            gql(
                self.url,
                INDICATOR_ADD,
                input={
                    "name": f"ip {n}",
                    "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
                    "pattern_type": "stix",
                    "x_opencti_main_observable_type": "IPv4-Addr",
                    "x_opencti_score": score,
                    "valid_until": (self.state.clock.now() + timedelta(days=days)).isoformat(),
                    "objectLabel": labels,
                },
            )
        elif kind == "ip":
            gql(
                self.url,
                OBSERVABLE_ADD,
                type="IPv4-Addr",
                IPv4Addr={"value": f"203.0.113.{n % 250}"},
                x_opencti_score=score,
                objectLabel=labels,
            )
        else:
            gql(
                self.url,
                OBSERVABLE_ADD,
                type="Domain-Name",
                DomainName={"value": f"d{n}.example"},
                x_opencti_score=score,
                objectLabel=labels,
            )

    def patch(self, index: int, key: str, value: str) -> None:
        found = self.pick(index)
        if found is None:
            return
        ident, indicator = found
        if not indicator and key in ("revoked", "valid_until"):
            key, value = "x_opencti_description", f"now {value}"
        if not indicator and key == "description":
            key = "x_opencti_description"
        edit = FIELD_PATCH % EDIT[indicator]
        gql(self.url, edit, id=ident, input=[{"key": key, "value": [value]}])

    def label(self, index: int, label: str, add: bool) -> None:
        found = self.pick(index)
        if found is None:
            return
        ident, indicator = found
        if add:
            gql(
                self.url,
                RELATION_ADD % EDIT[indicator],
                id=ident,
                input={"toId": label, "relationship_type": "object-label"},
            )
        else:
            gql(
                self.url,
                RELATION_DELETE % EDIT[indicator],
                id=ident,
                toId=label,
                type="object-label",
            )

    def delete(self, index: int) -> None:
        found = self.pick(index)
        if found is not None:
            gql(self.url, DELETE % EDIT[found[1]], id=found[0])

    def merge(self, index: int, other: int) -> None:
        found, source = self.pick(index), self.pick(other)
        if found is None or source is None or found == source:
            return
        same_type = [
            (i, ind)
            for i, ind in self.alive()
            if self.state.store.entities[i]["entity_type"]
            == self.state.store.entities[found[0]]["entity_type"]
            and i != found[0]
        ]
        if same_type:
            victim = sorted(same_type)[other % len(same_type)]
            gql(self.url, MERGE, id=found[0], sources=[victim[0]])

    def advance_seconds(self, seconds: int) -> None:
        body = {"advance": seconds}
        httpx.post(f"{self.url}/__sandbox/clock", json=body, timeout=30).raise_for_status()

    def advance(self, days: int, expire: bool) -> None:
        body: dict[str, Any] = {"advance": f"{days}d", "expire": expire}
        httpx.post(f"{self.url}/__sandbox/clock", json=body, timeout=30).raise_for_status()


labels = st.lists(st.sampled_from(LABELS), unique=True, max_size=2)
creates = st.tuples(
    st.just("create"),
    st.sampled_from(["indicator", "ip", "domain"]),
    labels,
    st.integers(0, 100),
    st.integers(1, 30),
)
steps = st.one_of(
    creates,
    st.tuples(
        st.just("patch"),
        st.integers(0, 50),
        st.sampled_from(["x_opencti_score", "description", "revoked", "valid_until"]),
        st.integers(0, 100),
    ),
    st.tuples(st.just("label"), st.integers(0, 50), st.sampled_from(LABELS), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("merge"), st.integers(0, 50), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.integers(1, 40), st.booleans()),
    st.tuples(st.just("tick"), st.integers(1, 5)),
    # several changes between two passes: deletes and creates in one date partition, whose
    # count alone can then match the snapshot's
    st.tuples(
        st.just("burst"),
        st.lists(
            st.one_of(
                st.tuples(st.just("delete"), st.integers(0, 50)),
                creates,
                st.tuples(st.just("tick"), st.integers(1, 3)),
            ),
            min_size=2,
            max_size=8,
        ),
    ),
)


def apply_step(world: World, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "create":
        world.create(step[1], list(step[2]), step[3], step[4])
    elif kind == "patch":
        _, index, key, number = step
        value = {
            "x_opencti_score": str(number),
            "description": f"text {number}",
            "revoked": "true" if number % 2 else "false",
            "valid_until": (world.state.clock.now() + timedelta(days=number - 50)).isoformat(),
        }[key]
        world.patch(index, key, value)
    elif kind == "label":
        world.label(step[1], step[2], step[3])
    elif kind == "delete":
        world.delete(step[1])
    elif kind == "merge":
        world.merge(step[1], step[2])
    elif kind == "tick":
        world.advance_seconds(step[1])
    elif kind == "burst":
        for inner in step[1]:
            apply_step(world, inner)
    else:
        world.advance(step[1], step[2])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.lists(
        st.one_of(creates, creates, st.tuples(st.just("tick"), st.integers(1, 3))),
        min_size=1,
        max_size=14,
    ),
    changes=st.lists(steps, min_size=1, max_size=8),
    hints=st.booleans(),
    tiny=st.booleans(),
)
def test_incremental_fetches_equal_full_fetches_over_random_changes(
    opencti: tuple[str, OpenCTIState],
    seed: list[tuple[Any, ...]],
    changes: list[tuple[Any, ...]],
    hints: bool,
    tiny: bool,
) -> None:
    """`hints`: the live stream's deletions and merges are handed over, as `run` does.
    `tiny`: deletions are found with partitions of one or two objects, cut in two (the
    sizes of 100,000-object snapshots, scaled down to these), not one listing of every id."""
    sizes = {"LEAF": 1, "PIECES": 2, "TOP_PIECES": 2, "COUNT_COST": 0} if tiny else {"LEAF": 500}
    with mock.patch.multiple(incremental_module, **sizes):
        check_random_changes(opencti, seed, changes, hints)


def check_random_changes(
    opencti: tuple[str, OpenCTIState],
    seed: list[tuple[Any, ...]],
    changes: list[tuple[Any, ...]],
    hints: bool,
) -> None:
    url, state = opencti
    state.reset()
    forget(snapshot_path(settings_for(url).url))
    gone.clear()
    world = World(url, state)
    for step in seed:
        apply_step(world, step)
    first, report = incremental(url)
    assert report.kind == "full"
    same(first, full(url))
    kinds = []
    seen = len(state.events.events)
    for step in changes:
        apply_step(world, step)
        if hints:
            for event in list(state.events.events)[seen:]:
                parsed = parse_event(event.id, event.topic, json.dumps(event.data))
                if parsed is not None and parsed.gone:
                    hint_gone(settings_for(url).url, parsed.gone)
        seen = len(state.events.events)
        got, report = incremental(url)
        kinds.append(report.kind)
        expected = full(url)
        same(got, expected)
        now = state.clock.now()
        assert build_desired(POLICIES, got, now=now) == build_desired(POLICIES, expected, now=now)
    assert set(kinds) == {"incremental"}, kinds  # never fell back to a full fetch


# ---------------------------------------------------------------------------- unit behaviour


def id_listings(world: World, family: str = "Indicator") -> int:
    return world.state.requests[f"operation:OctiTanium{family}Ids"]


def seeded(world: World, n: int = 3) -> None:
    for i in range(n):
        world.create("indicator", ["malware"], 80, 30)
        world.create("ip", [], 10 + i, 1)


@pytest.fixture
def world(opencti: tuple[str, OpenCTIState]) -> World:
    url, state = opencti
    state.reset()
    forget(snapshot_path(settings_for(url).url))
    gone.clear()
    return World(url, state)


def test_the_first_fetch_is_full_then_incremental_and_the_file_is_in_the_state_dir(
    world: World, hermetic_state: Path
) -> None:
    seeded(world)
    got, report = incremental(world.url)
    assert (report.kind, report.reason) == ("full", "no local snapshot yet")
    path = snapshot_path(settings_for(world.url).url)
    assert path.parent == hermetic_state and path.is_file()
    header = json.loads(path.read_text().splitlines()[0])
    assert header["format"] == FORMAT and header["objects"] == len(got.objects) == 6
    world.patch(0, "x_opencti_score", "90")
    again, report = incremental(world.url)
    assert report.kind == "incremental" and (report.changed, report.removed) == (1, 0)
    same(again, full(world.url))
    assert sorted(p.name for p in hermetic_state.rglob("*")) == [path.name]


def test_a_corrupt_snapshot_means_a_full_fetch(world: World) -> None:
    seeded(world)
    incremental(world.url)
    path = snapshot_path(settings_for(world.url).url)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:-1], lines[-1][:-5]]) + "\n")
    got, report = incremental(world.url)
    assert report.kind == "full" and "unreadable" in report.reason
    same(got, full(world.url))
    path.write_text("\n".join(lines[:-1]) + "\n")  # one object short
    _, report = incremental(world.url)
    assert report.kind == "full" and "truncated" in report.reason
    path.write_text('{"format": "something/else"}\n')
    _, report = incremental(world.url)
    assert report.kind == "full" and "is not a" in report.reason
    _, report = incremental(world.url)
    assert report.kind == "incremental"


def test_changed_policies_mean_a_full_fetch(world: World) -> None:
    seeded(world)
    incremental(world.url)
    narrower = policy_set({"entityTypes": ["Indicator"], "minScore": 50})
    got, report = incremental(world.url, narrower)
    assert (report.kind, report.reason) == ("full", "the policies' queries changed")
    same(got, full(world.url, narrower))
    _, report = incremental(world.url, narrower)
    assert report.kind == "incremental"


def test_a_relative_window_always_means_a_full_fetch(world: World) -> None:
    seeded(world)
    recent = policy_set({"entityTypes": ["Indicator"], "created": {"within": "30d"}})
    for _ in range(2):
        got, report = incremental(world.url, recent)
        assert report.kind == "full" and "within" in report.reason
        same(got, full(world.url, recent))
    assert not snapshot_path(settings_for(world.url).url).exists()


def test_every_nth_pass_is_full(world: World) -> None:
    seeded(world)
    every3 = IncrementalSettings(full_every=3, overlap=timedelta(0))
    kinds = [incremental(world.url, options=every3)[1].kind for _ in range(7)]
    assert kinds == ["full", "incremental", "incremental"] * 2 + ["full"]


def test_deletions_and_merges_come_from_the_id_listing(world: World) -> None:
    seeded(world)
    incremental(world.url)
    world.delete(0)
    before = id_listings(world, "Indicator") + id_listings(world, "Observable")
    got, report = incremental(world.url)
    assert (report.kind, report.changed, report.removed) == ("incremental", 0, 1)
    after = id_listings(world, "Indicator") + id_listings(world, "Observable")
    assert after - before == 5  # changed + count per family, and one listing of every id
    same(got, full(world.url))
    world.merge(0, 1)
    got, report = incremental(world.url)
    assert (report.kind, report.removed) == ("incremental", 1)
    same(got, full(world.url))
    assert world.state.events.events[-1].topic == "merge"


def test_deletions_are_found_from_partition_counts_not_every_id(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitions of at most 2 objects, cut in two: deletes, and creates dated among the
    deleted ones (same partitions: their counts alone would match), are all found, and no
    listing reads every id."""
    monkeypatch.setattr(incremental_module, "LEAF", 2)
    monkeypatch.setattr(incremental_module, "PIECES", 2)
    monkeypatch.setattr(incremental_module, "TOP_PIECES", 2)
    monkeypatch.setattr(incremental_module, "COUNT_COST", 0)
    for _ in range(12):
        world.create("indicator", ["malware"], 80, 30)
        world.advance_seconds(2)
    first, _ = incremental(world.url)
    assert len(first.objects) == 12
    created = sorted(
        (record["created"], record["id"])
        for record in world.state.store.entities.values()
        if record["entity_type"] == "Indicator"
    )
    for _stamp, ident in created[2:5]:  # three gone, and two new of the same dates
        gql(world.url, DELETE % EDIT[True], id=ident)
    for n, (stamp, _) in enumerate(created[2:4]):
        gql(
            world.url,
            INDICATOR_ADD,
            input={
                "name": f"late {n}",
                "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
                "pattern_type": "stix",
                "x_opencti_main_observable_type": "IPv4-Addr",
                "x_opencti_score": 80,
                "created": stamp.isoformat(),
                "objectLabel": ["malware"],
            },
        )
    listed: list[int] = []
    real_ids = incremental_module._ids

    async def spy(client: Any, query: Any, *, count_only: bool = False) -> tuple[set[str], int]:
        keys, total = await real_ids(client, query, count_only=count_only)
        filters = json.dumps(query.filters)
        if not count_only and query.family == "indicators" and "updated_at" not in filters:
            listed.append(len(keys))  # an id listing, not the changes
        return keys, total

    monkeypatch.setattr(incremental_module, "_ids", spy)
    got, report = incremental(world.url)
    assert (report.kind, report.removed) == ("incremental", 3)
    same(got, full(world.url))
    assert len(got.objects) == 11
    assert listed and max(listed) <= 2 and sum(listed) < len(got.objects)


def test_the_overlap_rereads_what_changed_shortly_before_the_mark(world: World) -> None:
    world.create("ip", [], 5, 1)
    world.advance_seconds(30)
    world.create("ip", [], 6, 1)
    wide = IncrementalSettings(full_every=100, overlap=timedelta(seconds=60))
    narrow = IncrementalSettings(full_every=100, overlap=timedelta(seconds=10))
    incremental(world.url, options=wide)
    _, report = incremental(world.url, options=wide)
    assert (report.kind, report.read, report.changed) == ("incremental", 2, 0)
    _, report = incremental(world.url, options=narrow)
    assert (report.kind, report.read, report.changed) == ("incremental", 1, 0)


def test_an_object_leaving_a_policy_filter_leaves_the_snapshot(world: World) -> None:
    world.create("indicator", ["malware"], 80, 30)
    before, _ = incremental(world.url)
    assert any(o.entity_type == "Indicator" for o in before.objects)
    world.label(0, "malware", False)  # the indicator loses its only label
    before = id_listings(world)
    got, report = incremental(world.url)
    assert report.kind == "incremental" and report.removed == 1
    # told by the listing of what changed: no listing of every id (changed + count only)
    assert id_listings(world) - before == 2
    assert not any(o.entity_type == "Indicator" for o in got.objects)
    same(got, full(world.url))


def test_an_incomplete_listing_means_no_snapshot_and_a_full_fetch_next(world: World) -> None:
    seeded(world)
    incremental(world.url)
    path = snapshot_path(settings_for(world.url).url)
    rule = {"kind": "status", "operation": "OctiTaniumIndicators", "times": 1000}
    httpx.post(f"{world.url}/__sandbox/faults", json=rule, timeout=30).raise_for_status()
    try:
        got, report = incremental(world.url)
    finally:
        httpx.delete(f"{world.url}/__sandbox/faults", timeout=30).raise_for_status()
    assert report.kind == "full" and not got.complete
    assert not path.exists()
    _, report = incremental(world.url)
    assert (report.kind, report.reason) == ("full", "no local snapshot yet")


@pytest.mark.parametrize(
    ("name", "value"),
    [("OCTI_TANIUM_INCREMENTAL", "maybe"), ("OCTI_TANIUM_FULL_EVERY", "0")],
)
def test_settings_from_the_environment_are_checked(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(OpenCTISettingsError, match=name):
        IncrementalSettings.from_env(default=True)


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not IncrementalSettings.from_env(default=False).enabled
    assert IncrementalSettings.from_env(default=True).full_every == 12
    monkeypatch.setenv("OCTI_TANIUM_INCREMENTAL", "on")
    monkeypatch.setenv("OCTI_TANIUM_INCREMENTAL_OVERLAP", "5s")
    options = IncrementalSettings.from_env(default=False)
    assert options.enabled and options.overlap == timedelta(seconds=5)


def test_a_restart_reads_the_changes_since_the_files_older_mark(world: World) -> None:
    seeded(world)
    incremental(world.url)  # full: the file is written
    path = snapshot_path(settings_for(world.url).url)
    written = path.read_bytes()
    world.patch(0, "x_opencti_score", "99")
    incremental(world.url)  # incremental: in memory only
    assert path.read_bytes() == written
    world.delete(1)
    memory.clear()  # a restarted process
    got, report = incremental(world.url)
    assert (report.kind, report.changed, report.removed) == ("incremental", 1, 1)
    same(got, full(world.url))


def test_stored_objects_read_back_equal_to_the_mapped_ones() -> None:
    indicator = indicator_from_node(
        {
            "id": "i1",
            "standard_id": "indicator--1",
            "entity_type": "Indicator",
            "name": "n é",
            "pattern": "[ipv4-addr:value = '1.2.3.4']",
            "valid_until": "2027-01-01T00:00:00.123456+02:00",
            "x_mitre_platforms": ["windows"],
            "objectLabel": [{"value": "a"}, {"value": "b"}],
            "objectMarking": [{"definition": "TLP:GREEN"}],
            "created": "2026-01-01T00:00:00Z",
        }
    )
    observable = observable_from_node(
        {
            "id": "o1",
            "standard_id": "file--1",
            "entity_type": "StixFile",
            "hashes": [{"algorithm": "SHA-256", "hash": "a" * 64}],
            "x_opencti_score": 5,
            "updated_at": "2026-01-02T00:00:00.000Z",
        }
    )
    for obj in (indicator, observable):
        back = decode(encode(obj))
        assert back == obj and back.model_dump() == obj.model_dump()
        assert back.__pydantic_fields_set__ == obj.__pydantic_fields_set__
        assert back.__pydantic_extra__ == obj.__pydantic_extra__
        assert back.__pydantic_private__ == obj.__pydantic_private__
        assert type(back.valid_until) is type(obj.valid_until)
        assert back.valid_until == obj.valid_until
        if obj.valid_until is not None:
            assert back.valid_until.utcoffset() == obj.valid_until.utcoffset()


def test_the_driver_reads_incrementally_for_run_and_in_full_for_plan_unless_asked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controller.reconcile import SourceSpec, fetch_source
    from controller.run.metrics import SOURCE_FETCHES

    seeded(world)
    monkeypatch.setenv("OPENCTI_URL", world.url)
    monkeypatch.setenv("OPENCTI_TOKEN", DEFAULT_TOKEN)
    path = snapshot_path(world.url)
    spec = SourceSpec.parse("opencti")

    def fetch(incremental: bool) -> SourceSnapshot:
        return asyncio.run(fetch_source(spec, POLICIES, now=NOW, incremental=incremental))

    def counted(kind: str) -> float:
        return SOURCE_FETCHES.labels(kind)._value.get()

    plain = fetch(False)  # plan / apply: a full fetch, no local snapshot
    assert not path.exists()
    fulls, incrementals = counted("full"), counted("incremental")
    same(fetch(True), plain)  # run: the first is full and writes the snapshot
    assert path.exists()
    world.patch(0, "x_opencti_score", "99")
    got = fetch(True)
    assert (counted("full"), counted("incremental")) == (fulls + 1, incrementals + 1)
    same(got, fetch(False))
    monkeypatch.setenv("OCTI_TANIUM_INCREMENTAL", "off")
    fetch(True)
    assert counted("incremental") == incrementals + 1
    monkeypatch.setenv("OCTI_TANIUM_INCREMENTAL", "on")
    fetch(False)
    assert counted("incremental") == incrementals + 2


def test_stream_events_spare_the_listing_of_every_id(world: World) -> None:
    seeded(world)
    incremental(world.url)
    world.delete(0)
    world.merge(0, 1)
    url = settings_for(world.url).url
    for event in world.state.events.events:
        parsed = parse_event(event.id, event.topic, json.dumps(event.data))
        if parsed is not None and parsed.gone:
            hint_gone(url, parsed.gone)
    topics = {e.topic for e in world.state.events.events}
    assert {"delete", "merge"} <= topics
    before = id_listings(world, "Indicator") + id_listings(world, "Observable")
    got, report = incremental(world.url)
    assert (report.kind, report.removed) == ("incremental", 2)
    after = id_listings(world, "Indicator") + id_listings(world, "Observable")
    assert after - before == 4  # changed + count per family: no listing of every id
    same(got, full(world.url))
    hint_gone(url, ["not-an-object"])  # a hint never removes what was not deleted
    again, _ = incremental(world.url)
    same(again, full(world.url))


def test_the_emulator_merges_as_opencti_does(world: World) -> None:
    world.create("ip", ["malware"], 10, 1)
    world.create("ip", ["c2"], 20, 1)
    world.create("domain", [], 30, 1)
    store = world.state.store
    ips = sorted(i for i, r in store.entities.items() if r["entity_type"] == "IPv4-Addr")
    domain = next(i for i, r in store.entities.items() if r["entity_type"] == "Domain-Name")
    target, source = ips
    source_standard = store.entities[source]["standard_id"]
    before = store.entities[target]["updated_at"]
    reply = httpx.post(
        f"{world.url}/graphql",
        json={"query": MERGE, "variables": {"id": target, "sources": [domain]}},
        headers=AUTH,
        timeout=30,
    ).json()
    assert "different types" in reply["errors"][0]["message"]
    gql(world.url, MERGE, id=target, sources=[source])
    merged = store.entities[target]
    assert source not in store.entities
    assert [label["value"] for label in merged["objectLabel"]] == ["malware", "c2"]
    assert merged["x_opencti_score"] == 10  # the target's own attributes stay
    assert merged["updated_at"] > before
    assert store.resolve(source_standard) is merged  # the source's id now names the target
    event = world.state.events.events[-1]
    assert event.topic == "merge"
    sources = event.data["context"]["sources"]
    assert [s["id"] for s in sources] == [source_standard]
