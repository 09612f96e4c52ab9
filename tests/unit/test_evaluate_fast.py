"""`evaluate`'s fast paths give exactly what the general path gives.

`evaluate` makes each policy's facts once per policy list (`OrderedPolicies`), takes every
policy at once when each selects everything, judges the lifecycle once for all policies
(`lifecycle_clear`), and renders a plain STIX indicator without a `Conversion`. Each is
compared here with `evaluate_chosen` (the general path, from the policies `selects` takes) on
generated objects, policy sets and exclusions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.exclusions import ExclusionIndex
from controller.core.model import SourceObject
from controller.core.outcome import (
    OrderedPolicies,
    Outcome,
    PolicyFacts,
    evaluate,
    evaluate_chosen,
    ordered_policies,
)
from controller.core.selection import (
    lifecycle_clear,
    lifecycle_reason,
    selects,
    selects_everything,
)
from controller.policy.located import Located
from controller.policy.models import Exclusion, Select
from tests.unit.test_desired import HERE, NOW, policies, policy

SHA256 = "Ab" * 32
PATTERNS = st.sampled_from(
    [
        "[ipv4-addr:value = '198.51.100.9']",
        "[ipv4-addr:value = '192.0.2.9']",
        "[ipv4-addr:value = '10.0.0.0/8']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[domain-name:value = 'evil.example']",
        "[domain-name:value = 'Good.Example.']",
        "[hostname:value = 'host.example']",
        "[url:value = 'http://evil.example/payload']",
        "[url:value = 'https://good.example/a?b=c']",
        f"[file:hashes.'SHA-256' = '{SHA256}']",
        f"[file:hashes.MD5 = '{SHA256[:32]}']",
        f"[file:hashes.'SHA-1' = '{SHA256[:40]}']",
        "[file:hashes.MD5 = 'not-a-hash']",
        "[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'x.example']",
        "[ipv4-addr:value = '300.1.1.1']",
        "[domain-name:value = 'it\\'s.example']",
        "[file:name = 'x.exe']",
        "not a pattern",
        "",
        "rule a { condition: true }",
    ]
)
STAMPS = st.sampled_from(
    [
        None,
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        NOW,
        (NOW - timedelta(days=1)).replace(tzinfo=None),
        (NOW + timedelta(days=1)).replace(tzinfo=None),
    ]
)
MARKINGS = st.sampled_from([(), ("TLP:GREEN",), ("TLP:RED",), ("tlp:red ",), ("TLP:AMBER",)])
LABELS = st.sampled_from([(), ("x",), ("y", "blocked"), ("X ",)])


@st.composite
def objects(draw: st.DrawFn) -> SourceObject:
    fields: dict[str, Any] = {
        "standard_id": f"indicator--{draw(st.integers(0, 9)):08d}-0000-4000-8000-000000000000",
        "revoked": draw(st.booleans()),
        "valid_until": draw(STAMPS),
        "markings": draw(MARKINGS),
        "labels": draw(LABELS),
        "score": draw(st.none() | st.integers(0, 100)),
        "description": draw(st.sampled_from(["", "d\n\"<&>'"])),
        "name": draw(st.sampled_from(["", "a name"])),
    }
    if draw(st.integers(0, 4)):
        fields["entity_type"] = "Indicator"
        fields["pattern"] = draw(st.none() | PATTERNS)
        fields["pattern_type"] = draw(
            st.sampled_from(["stix", "stix", "stix", "STIX", " stix", "yara", "sigma", None])
        )
        fields["detection"] = draw(st.sampled_from([None, True, False]))
    else:
        kind, value, hashes = draw(
            st.sampled_from(
                [
                    ("IPv4-Addr", "198.51.100.9", {}),
                    ("Domain-Name", "evil.example", {}),
                    ("Url", "http://good.example/", {}),
                    ("StixFile", None, {"SHA-256": SHA256, "MD5": SHA256[:32]}),
                    ("StixFile", None, {"MD5": "bad"}),
                ]
            )
        )
        fields.update(entity_type=kind, value=value, hashes=hashes)
        fields["detection"] = draw(st.sampled_from([None, False]))
    return SourceObject.model_validate(fields)


SELECTS = st.sampled_from(
    [
        {},
        {},
        {"markings": ["TLP:RED", "TLP:GREEN"], "allowRed": True},
        {"includeRevoked": True},
        {"includeExpired": True},
        {"minScore": 50},
        {"labels": {"anyOf": ["x"]}},
        {"entityTypes": ["Indicator"]},
        {"patternTypes": ["yara"]},
    ]
)
TARGETS = st.sampled_from(
    [
        {"intel": {}, "blocklist": {}},
        {"intel": {}},
        {"intel": {"urls": False}},
        {"blocklist": {}},
        {"blocklist": {"stixHashPatterns": False}},
        {"intel": {"urls": False}, "blocklist": {"stixHashPatterns": False}},
    ]
)


@st.composite
def policy_lists(draw: st.DrawFn) -> list[Located]:
    count = draw(st.integers(0, 3))
    return [
        policy(
            f"p{n}",
            select=draw(SELECTS),
            target=draw(TARGETS),
            priority=draw(st.integers(0, 2)),
        )
        for n in range(count)
    ]


def _exclusion(spec: dict[str, Any]) -> Located:
    body = {"apiVersion": "octi-tanium/v1", "kind": "Exclusion", "metadata": {"name": "ex"}}
    return Located(Exclusion.model_validate({**body, "spec": {"reason": "r", **spec}}), HERE)


EXCLUSIONS = st.sampled_from(
    [
        (),
        (_exclusion({"values": ["198.51.100.0/24", "evil.example"]}),),
        (_exclusion({"labels": ["blocked"]}),),
        (_exclusion({"hashes": [SHA256.lower()]}),),
    ]
)


def _general(
    obj: SourceObject, located: list[Located], exclusions: ExclusionIndex, now: datetime
) -> Outcome | None:
    chosen = [
        facts for facts in map(PolicyFacts.of, located) if selects(facts.spec.select, obj, now=now)
    ]
    return evaluate_chosen(obj, chosen, exclusions, now=now) if chosen else None


@settings(max_examples=1500, deadline=None)
@given(objects(), policy_lists(), EXCLUSIONS, st.sampled_from([NOW, NOW + timedelta(days=2)]))
def test_evaluate_is_the_general_path(
    obj: SourceObject, located: list[Located], excluded: tuple[Located, ...], now: datetime
) -> None:
    ordered = ordered_policies(policies(*located))
    exclusions = ExclusionIndex.build(excluded)
    try:
        expected = _general(obj, list(ordered), exclusions, now)
    except TypeError:  # a naive timestamp against an aware `now`: both paths raise
        expected = None
        raised = True
    else:
        raised = False
    for given_policies in (ordered, list(ordered)):  # with its facts, and a plain list
        try:
            outcome = evaluate(obj, given_policies, exclusions, now=now)
        except TypeError:
            assert raised
        else:
            assert not raised
            assert outcome == expected


@st.composite
def clear_indicators(draw: st.DrawFn) -> SourceObject:
    """Indicators nothing stops, as most are: the plain path's own input."""
    return SourceObject(
        standard_id="indicator--1",
        entity_type="Indicator",
        pattern=draw(PATTERNS),
        pattern_type="stix",
        description=draw(st.sampled_from(["", "d\n\"<&>'"])),
        markings=draw(st.sampled_from([(), ("TLP:GREEN",)])),
        detection=draw(st.sampled_from([None, True])),
        valid_until=draw(st.sampled_from([None, NOW + timedelta(days=1)])),
    )


@settings(max_examples=600, deadline=None)
@given(clear_indicators(), policy_lists())
def test_the_plain_path_is_the_general_path(obj: SourceObject, located: list[Located]) -> None:
    ordered = ordered_policies(policies(*located))
    outcome = evaluate(obj, ordered, ExclusionIndex(), now=NOW)
    assert outcome == _general(obj, list(ordered), ExclusionIndex(), NOW)


def test_the_plain_path_renders_the_usual_indicator() -> None:
    obj = SourceObject(
        standard_id="indicator--1",
        entity_type="Indicator",
        pattern=f"[file:hashes.'SHA-256' = '{SHA256}']",
        pattern_type="stix",
    )
    located = [policy("a"), policy("b", target={"intel": {"urls": False}})]
    outcome = evaluate(obj, ordered_policies(policies(*located)), ExclusionIndex(), now=NOW)
    assert outcome == _general(obj, located, ExclusionIndex(), NOW)
    assert outcome is not None and len(outcome.intel) == 2 and len(outcome.files) == 1


def test_a_changed_list_has_its_facts_made_again() -> None:
    obj = SourceObject(
        standard_id="indicator--1",
        entity_type="Indicator",
        pattern="[ipv4-addr:value = '192.0.2.1']",
        pattern_type="stix",
    )
    ordered = ordered_policies(policies(policy("a")))
    assert isinstance(ordered, OrderedPolicies)
    ordered[0] = policy("b", target={"blocklist": {}})
    outcome = evaluate(obj, ordered, ExclusionIndex(), now=NOW)
    assert outcome is not None and outcome.skipped is not None and not outcome.intel
    ordered.append(policy("c"))
    outcome = evaluate(obj, ordered, ExclusionIndex(), now=NOW)
    assert outcome is not None and outcome.skipped is None
    assert [located.document.metadata.name for _, located in outcome.intel] == ["c"]
    ordered.clear()
    assert evaluate(obj, ordered, ExclusionIndex(), now=NOW) is None


@settings(max_examples=500, deadline=None)
@given(objects(), st.sampled_from([NOW, NOW + timedelta(days=2)]), SELECTS)
def test_lifecycle_clear_is_no_reason_whatever_the_select(
    obj: SourceObject, now: datetime, select: dict[str, Any]
) -> None:
    clear = lifecycle_clear(obj, now=now)
    assert clear == (lifecycle_reason(Select(), obj, now=now) is None)
    if clear:
        assert lifecycle_reason(Select.model_validate(select), obj, now=now) is None


@given(objects(), SELECTS)
def test_a_select_of_no_condition_selects_everything(
    obj: SourceObject, select: dict[str, Any]
) -> None:
    chosen = Select.model_validate(select)
    assert selects_everything(chosen) == (
        select in ({}, {"includeRevoked": True}, {"includeExpired": True})
    )
    if selects_everything(chosen):
        assert selects(chosen, obj, now=NOW)


def test_every_condition_is_one() -> None:
    for select in (
        {"entityTypes": ["Indicator"]},
        {"patternTypes": ["stix"]},
        {"observableTypes": ["Url"]},
        {"labels": {"anyOf": ["a"]}},
        {"labels": {"allOf": ["a"]}},
        {"labels": {"noneOf": ["a"]}},
        {"minScore": 0},
        {"minConfidence": 0},
        {"markings": ["TLP:GREEN"]},
        {"created": {"within": "1d"}},
        {"updated": {"within": "1d"}},
    ):
        assert not selects_everything(Select.model_validate(select)), select
