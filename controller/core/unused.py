"""Policies that select nothing: a warning each, in `validate --source` and in every plan.

A policy whose `select` matches none of the source's objects is almost always a mistake (a
misspelt label, a score no indicator reaches) that would otherwise pass silently: nothing is
synced and nothing says why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from controller.core.diagnostics import Diagnostic
from controller.core.model import SourceSnapshot
from controller.core.plan import Plan
from controller.core.selection import selects
from controller.policy.located import PolicySet
from controller.policy.models import IntelPolicy


def unused_policies(
    policies: PolicySet, snapshot: SourceSnapshot, *, now: datetime
) -> list[Diagnostic]:
    """A warning, at its position, for each intel policy no object of `snapshot` satisfies."""
    found = []
    for located in policies.intel_policies:
        policy = located.document
        assert isinstance(policy, IntelPolicy)
        if any(selects(policy.spec.select, obj, now=now) for obj in snapshot.objects):
            continue
        found.append(
            Diagnostic.warning(
                f"policy {policy.metadata.name!r} selects none of the "
                f"{len(snapshot.objects):,} objects of the source: nothing is synced for it",
                detail="check its spec.select (labels, minScore, types, markings) against "
                "the source; `octi-tanium plan` lists skipped objects and why",
                position=located.position,
            )
        )
    return found


def with_policy_warnings(
    plan: Plan,
    warnings: Iterable[Diagnostic],
    policies: PolicySet,
    snapshot: SourceSnapshot,
    *,
    now: datetime,
) -> Plan:
    """`plan` with `validate`'s warnings and the unused-policy warnings first among its
    diagnostics (an incomplete source says nothing about what a policy would select)."""
    unused = unused_policies(policies, snapshot, now=now) if snapshot.complete else []
    return replace(plan, diagnostics=(*warnings, *unused, *plan.diagnostics))
