"""Desired state: merging, lifecycle reasons, exclusions and quotas, through the real renderer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.core.desired import build_desired
from controller.core.diagnostics import Position
from controller.core.model import SourceObject, SourceSnapshot
from controller.policy.loader import Located, PolicySet
from controller.policy.models import Exclusion, IntelPolicy, SettingsSpec

NOW = datetime(2026, 11, 28, tzinfo=UTC)
HERE = Position("t.yaml", 1, 1)


def policy(name: str = "all", **spec: Any) -> Located:
    body = {"select": {}, "target": {"intel": {}, "blocklist": {}}, **spec}
    return Located(
        IntelPolicy.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "IntelPolicy",
                "metadata": {"name": name},
                "spec": body,
            }
        ),
        HERE,
    )


def policies(*located: Located, exclusions: tuple[Located, ...] = (), **settings: Any) -> PolicySet:
    return PolicySet(
        intel_policies=located,
        exclusions=exclusions,
        settings=SettingsSpec.model_validate(settings),
    )


def ind(n: int, pattern: str, **kw: Any) -> SourceObject:
    return SourceObject.model_validate(
        {
            "standard_id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
            "entity_type": "Indicator",
            "pattern": pattern,
            "pattern_type": "stix",
            "name": f"indicator {n}",
            **kw,
        }
    )


def snap(*objects: SourceObject) -> SourceSnapshot:
    return SourceSnapshot(objects=objects)


def test_the_same_domain_from_two_indicators_is_one_document_with_both_labels() -> None:
    state = build_desired(
        policies(policy()),
        snap(
            ind(1, "[domain-name:value = 'Evil.Example.']", labels=("emotet",)),
            ind(2, "[domain-name:value = 'evil.example']", labels=("qakbot",)),
        ),
        now=NOW,
    )
    (doc,) = state.intel.values()
    assert doc.labels == ("emotet", "qakbot")
    assert len(doc.sources) == 2


def test_md5_and_sha256_of_one_file_are_one_entry() -> None:
    md5, sha256 = (
        "d41d8cd98f00b204e9800998ecf8427e",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    )
    observable = SourceObject(
        standard_id="file--1",
        entity_type="StixFile",
        hashes={"MD5": md5, "SHA-256": sha256},
        labels=("a",),
    )
    state = build_desired(
        policies(policy()),
        snap(
            ind(1, f"[file:hashes.MD5 = '{md5}']", labels=("b",)),
            observable,
        ),
        now=NOW,
    )
    (entry,) = state.blocklist.values()
    assert (entry.md5, entry.sha256) == (md5, sha256)
    assert "a" in entry.notes and "b" in entry.notes


def test_revoked_indicator_is_skipped_and_its_key_marked_gone() -> None:
    state = build_desired(
        policies(policy()),
        snap(ind(1, "[ipv4-addr:value = '198.51.100.1']", revoked=True)),
        now=NOW,
    )
    assert state.intel == {}
    assert [s.reason for s in state.skipped] == ["revoked"]
    assert list(state.gone.values()) == ["revoked"]


def test_excluded_values_are_skipped_naming_the_exclusion() -> None:
    exclusion = Located(
        Exclusion.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "Exclusion",
                "metadata": {"name": "infra"},
                "spec": {"values": ["198.51.100.0/24"], "reason": "our scanners"},
            }
        ),
        HERE,
    )
    state = build_desired(
        policies(policy(), exclusions=(exclusion,)),
        snap(
            ind(1, "[ipv4-addr:value = '198.51.100.9']"),
            ind(2, "[ipv4-addr:value = '192.0.2.9']"),
        ),
        now=NOW,
    )
    assert len(state.intel) == 1
    (skipped,) = state.skipped
    assert skipped.reason == "excluded" and skipped.detail == "infra (our scanners)"


def test_tlp_red_is_gated_per_policy() -> None:
    red = ind(1, "[ipv4-addr:value = '198.51.100.1']", markings=("TLP:RED",))
    assert build_desired(policies(policy()), snap(red), now=NOW).skipped[0].reason == "tlp-red"
    allowed = policy(select={"allowRed": True})
    assert len(build_desired(policies(allowed), snap(red), now=NOW).intel) == 1


def test_quota_evicts_lowest_priority_then_score_visibly() -> None:
    high = policy("high", priority=500, select={"labels": {"anyOf": ["vip"]}})
    low = policy("low", priority=10)
    objects = [
        ind(i, f"[ipv4-addr:value = '198.51.100.{i}']", score=i, labels=("vip",) if i == 1 else ())
        for i in range(1, 6)
    ]
    state = build_desired(policies(high, low, quotas={"maxIntel": 2}), snap(*objects), now=NOW)
    kept = sorted(d.name for d in state.intel.values())
    assert kept == ["198.51.100.1", "198.51.100.5"]
    evicted = [s for s in state.skipped if s.reason == "quota"]
    assert len(evicted) == 3 and all("quota of 2" in s.detail for s in evicted)


def test_policy_labels_and_scan_groups_are_merged_across_overlapping_policies() -> None:
    a = policy("a", target={"intel": {"labels": ["opencti"]}})
    b = policy(
        "b",
        target={"intel": {"labels": ["hunt"]}, "quickScan": {"computerGroups": ["All Computers"]}},
    )
    state = build_desired(
        policies(a, b), snap(ind(1, "[domain-name:value = 'x.example']")), now=NOW
    )
    (doc,) = state.intel.values()
    assert doc.labels == ("hunt", "opencti")
    assert doc.scan_groups == ("All Computers",)


def test_unsupported_pattern_type_is_skipped_with_a_short_reason() -> None:
    sigma = ind(1, "title: x", pattern_type="sigma")
    state = build_desired(policies(policy()), snap(sigma), now=NOW)
    (skipped,) = state.skipped
    assert skipped.reason == "unsupported-pattern-type"
    assert "sigma" in skipped.detail


def test_one_policys_allow_red_does_not_leak_into_another_policys_targets() -> None:
    red_only = policy(
        "red-only",
        select={"allowRed": True, "labels": {"anyOf": ["ir"]}},
        target={"intel": {"labels": ["red-only"]}},
    )
    broad = policy(
        "broad",
        target={
            "intel": {"labels": ["broad"]},
            "blocklist": {},
            "quickScan": {"computerGroups": ["All Computers"]},
        },
    )
    red = ind(1, "[domain-name:value = 'red.example']", labels=("ir",), markings=("TLP:RED",))
    state = build_desired(policies(red_only, broad), snap(red), now=NOW)
    (doc,) = state.intel.values()
    assert "broad" not in doc.labels and doc.scan_groups == ()


def test_exclusions_apply_to_hash_lists_kept_in_git() -> None:
    from controller.policy.models import StaticIntel

    md5 = "44d88612fea8a8f36de82e1278abb02f"
    static = Located(
        StaticIntel.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "StaticIntel",
                "metadata": {"name": "bad"},
                "spec": {"type": "hashes", "hashes": [md5]},
            }
        ),
        HERE,
    )
    exclusion = Located(
        Exclusion.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "Exclusion",
                "metadata": {"name": "eicar"},
                "spec": {"hashes": [md5], "reason": "EICAR test file"},
            }
        ),
        HERE,
    )
    base = policies(policy(), exclusions=(exclusion,))
    with_static = PolicySet(
        intel_policies=base.intel_policies,
        exclusions=base.exclusions,
        static_intel=(static,),
        settings=base.settings,
    )
    state = build_desired(with_static, snap(), now=NOW)
    assert state.blocklist == {}
    assert [s.reason for s in state.skipped] == ["excluded"]
