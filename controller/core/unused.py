"""Policies that select nothing: a warning each, in `validate --source` and in every plan.

A policy whose `select` matches none of the source's objects is almost always a mistake (a
misspelt label, a score no indicator reaches) that would otherwise pass silently: nothing is
synced and nothing says why."""

from __future__ import annotations

import re
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
    """`plan` with `validate`'s warnings (those the plan does not say already) and the
    unused-policy warnings first among its diagnostics (an incomplete source says nothing
    about what a policy would select)."""
    unused = unused_policies(policies, snapshot, now=now) if snapshot.complete else []
    said = {_finding(d.message) for d in plan.diagnostics}
    repeated = [w for w in warnings if _finding(w.message) not in said]
    return replace(plan, diagnostics=(*repeated, *unused, *plan.diagnostics))


_WHERE = re.compile(r"line \d+(?: of content)?: ")


def _finding(message: str) -> str:
    """What a content check found, without where (`validate` says `line 1 of content: X` of a
    static document whose plan diagnostic says `line 1: X`): the same finding is said once."""
    return _WHERE.split(message)[-1]
