"""Policy selectors → FilterGroups: one query per family, and never narrower than the pure
selector (`controller.core.selection.selects`), which stays authoritative."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from octi_sandbox.opencti import DEMO_SEED

from controller.core.model import SourceObject
from controller.core.selection import selects
from controller.policy.models import OBSERVABLE_TYPES, PATTERN_TYPES, Select
from controller.sources.bundle import parse_bundle
from controller.sources.opencti.filters import Marking, plan_queries

from .conftest import NOW, InProcess, policy_set

MARKINGS = [
    Marking("id-clear", "TLP:CLEAR"),
    Marking("id-green", "TLP:GREEN"),
    Marking("id-amber", "TLP:AMBER"),
    Marking("id-red", "TLP:RED"),
    Marking("id-pap", "PAP:GREEN"),
]


def plan(*selects_: dict[str, Any], markings: list[Marking] | None = None) -> Any:
    return plan_queries([Select.model_validate(s) for s in selects_], now=NOW, markings=markings)


def test_everything_is_two_unfiltered_queries() -> None:
    indicators, observables = plan({})
    assert indicators.family == "indicators" and indicators.filters is None
    assert observables.filters is None and observables.types == OBSERVABLE_TYPES


def test_overlapping_policies_share_one_query_per_family() -> None:
    queries = plan(
        {"labels": {"anyOf": ["emotet"]}},
        {"labels": {"anyOf": ["emotet"]}},
        {"minScore": 80, "entityTypes": ["Indicator", "StixFile"]},
    )
    assert [q.family for q in queries] == ["indicators", "observables"]
    indicators = queries[0].filters
    assert indicators["mode"] == "or" and len(indicators["filterGroups"]) == 2  # deduplicated
    observables = queries[1].filters
    assert queries[1].types == OBSERVABLE_TYPES
    stixfile = observables["filterGroups"][1]["filters"][0]
    assert stixfile == {
        "key": ["entity_type"],
        "values": ["StixFile"],
        "operator": "eq",
        "mode": "or",
    }


def test_one_unfiltered_policy_lifts_the_filters_of_its_family() -> None:
    queries = plan({"labels": {"anyOf": ["emotet"]}}, {"entityTypes": ["Indicator"]})
    assert queries[0].filters is None
    assert queries[1].filters == {
        "mode": "and",
        "filterGroups": [],
        "filters": [{"key": ["objectLabel"], "values": ["emotet"], "operator": "eq", "mode": "or"}],
    }


def test_labels_are_sent_as_written_and_case_folded() -> None:
    (query,) = plan(
        {
            "entityTypes": ["Indicator"],
            "labels": {"anyOf": ["Emotet"], "allOf": ["TANIUM"], "noneOf": ["Test"]},
        }
    )
    filters = query.filters["filters"]
    assert filters[0]["values"] == ["Emotet", "emotet"]
    assert filters[1]["values"] == ["TANIUM", "tanium"]
    assert filters[2] == {
        "key": ["objectLabel"],
        "values": ["Test", "test"],
        "operator": "not_eq",
        "mode": "and",
    }


def test_indicator_only_criteria() -> None:
    (query,) = plan(
        {
            "entityTypes": ["Indicator"],
            "patternTypes": ["stix", "yara"],
            "observableTypes": ["IPv4-Addr"],
            "minConfidence": 50,
        }
    )
    keys = [f["key"][0] for f in query.filters["filters"]]
    assert keys == ["pattern_type", "x_opencti_main_observable_type", "confidence"]
    assert plan({"minConfidence": 50})[0].family == "indicators"
    assert len(plan({"minConfidence": 50})) == 1  # observables have no confidence in OpenCTI
    (_, observables) = plan({"observableTypes": ["IPv4-Addr", "Url"]})
    assert observables.types == ("IPv4-Addr", "Url")


def test_markings_refuse_other_tlps_and_unmarked_objects_unless_clear() -> None:
    (query,) = plan(
        {"entityTypes": ["Indicator"], "markings": ["TLP:GREEN", "TLP:AMBER"]}, markings=MARKINGS
    )
    refused, accepted = query.filters["filters"]
    assert refused == {
        "key": ["objectMarking"],
        "values": ["id-clear", "id-red"],
        "operator": "not_eq",
        "mode": "and",
    }
    assert accepted["values"] == ["id-amber", "id-green"] and accepted["operator"] == "eq"
    (query,) = plan({"entityTypes": ["Indicator"], "markings": ["TLP:WHITE"]}, markings=MARKINGS)
    assert query.filters["filters"] == [
        {
            "key": ["objectMarking"],
            "values": ["id-amber", "id-green", "id-red"],
            "operator": "not_eq",
            "mode": "and",
        }
    ]
    assert plan({"markings": ["TLP:GREEN"]}, markings=None)[0].filters is None  # ids unknown: wider


def test_time_windows_are_relative_to_now_and_rounded_wider() -> None:
    (query,) = plan(
        {
            "entityTypes": ["Indicator"],
            "created": {"within": "7d"},
            "updated": {"before": "2026-11-01T00:00:00.0001Z"},
        }
    )
    (created,) = query.filters["filters"]
    assert created["values"] == ["2026-11-21T12:00:00.000Z"] and created["operator"] == "gte"
    (updated,) = query.filters["filterGroups"]
    modified, fallback = updated["filterGroups"]
    assert modified["filters"][0]["values"] == ["2026-11-01T00:00:00.001Z"]
    assert fallback["filters"][0] == {
        "key": ["modified"],
        "values": [],
        "operator": "nil",
        "mode": "or",
    }
    (_, observables) = plan({"created": {"after": "2026-01-01T00:00:00Z"}})
    assert observables.filters["filters"][0]["key"] == ["created_at"]


def test_the_query_hash_follows_the_policies(emulator: InProcess) -> None:
    a = emulator.fetch(policy_set({}))
    b = emulator.fetch(policy_set({"labels": {"anyOf": ["emotet"]}}))
    assert a.query_hash != b.query_hash
    assert emulator.fetch(policy_set({})).query_hash == a.query_hash


# --------------------------------------------------------------------------- never narrower

EXTRA = [
    {
        "type": "indicator",
        "id": "indicator--0d7c1b8e-0000-4000-8000-000000000001",
        "pattern": "[ipv4-addr:value = '192.0.2.201']",
        "pattern_type": "stix",
        "created": "2026-11-20T00:00:00Z",
        "labels": ["TANIUM", "Ünïcode"],
        "object_marking_refs": [
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        ],
    },
    {
        "type": "indicator",
        "id": "indicator--0d7c1b8e-0000-4000-8000-000000000002",
        "pattern": "[domain-name:value = 'nomarking.example']",
        "pattern_type": "stix",
        "x_opencti_score": 90,
        "confidence": 90,
        "x_opencti_main_observable_type": "Domain-Name",
    },
    {
        "type": "ipv4-addr",
        "id": "ipv4-addr--0d7c1b8e-0000-4000-8000-000000000003",
        "value": "192.0.2.202",
        "x_opencti_score": 70,
    },
    {
        "type": "software",
        "id": "software--0d7c1b8e-0000-4000-8000-000000000004",
        "name": "x",
        "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
    },
]


@cache
def knowledge() -> tuple[InProcess, list[SourceObject]]:
    data = json.loads(DEMO_SEED.read_bytes())
    data["objects"] += EXTRA
    target = InProcess()
    target.state.seed(data)
    return target, parse_bundle(data)[0]


LABELS = [
    "emotet",
    "Emotet",
    "TANIUM",
    "tanium",
    "qakbot",
    "phishing",
    "ransomware",
    "ünïcode",
    "nothing",
]
CRITERIA = [
    "entityTypes",
    "anyOf",
    "allOf",
    "noneOf",
    "patternTypes",
    "observableTypes",
    "minScore",
    "minConfidence",
    "markings",
    "created",
    "updated",
]


@cache
def _stamps() -> list[datetime]:
    _, objects = knowledge()
    out = {s for o in objects for s in (o.created, o.modified) if s is not None}
    return sorted(out)


@cache
def _numbers() -> list[int]:
    _, objects = knowledge()
    return sorted({v for o in objects for v in (o.score, o.confidence) if v is not None})


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    """Bounds on the data's own timestamps (boundaries are where narrowing bugs hide)."""
    stamp = draw(st.sampled_from(_stamps()))
    kind = draw(st.sampled_from(["after", "before", "within", "both"]))
    if kind == "within":
        return {"within": f"{max(1, (NOW - stamp).days)}d"}
    out = {}
    if kind in ("after", "both"):
        out["after"] = stamp.isoformat()
    if kind in ("before", "both"):
        offset = draw(
            st.sampled_from(
                [
                    timedelta(microseconds=1),
                    timedelta(seconds=1),
                    timedelta(0),
                    timedelta(days=1),
                    timedelta(days=40),
                ]
            )
        )
        out["before"] = (stamp + offset).isoformat()
    return out


@st.composite
def selects_(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(CRITERIA), max_size=3, unique=True))
    out: dict[str, Any] = {}
    labels: dict[str, list[str]] = {}
    for name in chosen:
        if name == "entityTypes":
            out[name] = draw(
                st.lists(
                    st.sampled_from(
                        ["Indicator", "IPv4-Addr", "StixFile", "Url", "Domain-Name", "Software"]
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
        elif name in ("anyOf", "allOf", "noneOf"):
            labels[name] = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=2))
        elif name == "patternTypes":
            out[name] = draw(st.lists(st.sampled_from(PATTERN_TYPES[:6]), min_size=1, max_size=2))
        elif name == "observableTypes":
            out[name] = draw(
                st.lists(
                    st.sampled_from(["IPv4-Addr", "StixFile", "Domain-Name"]),
                    min_size=1,
                    max_size=2,
                )
            )
        elif name in ("minScore", "minConfidence"):
            out[name] = draw(st.sampled_from(_numbers()))
        elif name == "markings":
            out[name] = draw(
                st.lists(
                    st.sampled_from(
                        ["TLP:CLEAR", "TLP:WHITE", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT"]
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
        else:
            out[name] = draw(windows())
    if labels:
        out["labels"] = labels
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(selects_(), min_size=1, max_size=3))
def test_server_filters_are_never_narrower_than_the_pure_selector(
    raw: list[dict[str, Any]],
) -> None:
    target, objects = knowledge()
    models = [Select.model_validate(s) for s in raw]
    snapshot = target.fetch(policy_set(*raw))
    assert snapshot.complete, snapshot.incomplete_reasons
    fetched = {o.standard_id for o in snapshot.objects}
    wanted = {o.standard_id for o in objects if any(selects(m, o, now=NOW) for m in models)}
    assert wanted <= fetched, sorted(wanted - fetched)
    event(f"selected: {'none' if not wanted else 'some'}")


def test_filters_do_narrow_the_transfer() -> None:
    target, objects = knowledge()
    snapshot = target.fetch(policy_set({"labels": {"anyOf": ["qakbot"]}, "minScore": 80}))
    assert 0 < len(snapshot.objects) < len(objects) // 5
    since = NOW - timedelta(days=10)
    recent = target.fetch(policy_set({"created": {"after": since.isoformat()}}))
    assert {o.standard_id for o in recent.objects} == {
        "indicator--0d7c1b8e-0000-4000-8000-000000000001"
    }
