"""What a pass of `run` came to, honestly: one `PassResult` per pass, whatever happened.

- `ok` (exit 0, a success): source complete, every write succeeded, nothing withheld;
- `failed` (exit 1, a failure): source incomplete or unreachable, a write failed, an error
  (an incomplete source that withheld deletes exits 3, as `apply` does);
- `blocked` (exit 3): a safety guard (deletion budget, empty source) withheld items;
- `deferred` (exit 0): outside every change window, planned and reported only;
- `standby` (exit 1: `LockBusy`): another replica holds the lease;
- `deposed` (exit 1): the lease was lost, the pass stopped before its next write batch;
- `stopped` (exit 0): SIGTERM/SIGINT, stopped after the write batch in flight.

`success` moves `octi_tanium_last_success_timestamp`; a `failure` counts towards `/readyz`
turning unready (`--unready-after`). The exit codes are the command line's (0, 1, 3).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from controller.reconcile import Outcome


@dataclass(frozen=True)
class PassResult:
    outcome: str
    exit_code: int
    message: str
    success: bool = False
    failure: bool = False


def failed(message: str) -> PassResult:
    return PassResult("failed", 1, message, failure=True)


def classify(
    outcome: Outcome, *, window_open: bool = True, source: str = "the source"
) -> PassResult:
    """The result of a pass that ran to its end (no exception); `source` names the source
    in messages."""
    plan = outcome.plan
    incomplete = [g for g in plan.guards if g.name == "complete" and not g.ok]
    if incomplete:
        result = failed(f"{source} answered incompletely: {incomplete[0].detail}")
        # exit 3 when it withheld deletes, as `apply` exits; else 1: nothing looks fine
        return replace(result, exit_code=3) if plan.has_blocked else result
    report = outcome.report
    if report is not None and report.failed:
        first = report.failed[0]
        return failed(
            f"{len(report.failed)} write(s) failed, first {first.item.action} "
            f"{first.item.kind} {first.item.name or first.item.key}: {first.message}"
        )
    if plan.has_blocked:
        guards = ", ".join(g.name for g in plan.guards if not g.ok) or "a guard"
        blocked = sum(1 for i in plan.items if i.blocked)
        return PassResult("blocked", 3, f"{blocked} item(s) withheld by {guards}")
    if not window_open and plan.has_changes:
        changes = sum(1 for i in plan.items if i.action != "no-op" and not i.blocked)
        return PassResult(
            "deferred", 0, f"outside the change windows: {changes} change(s) planned, not applied"
        )
    if report is None:
        return PassResult("ok", 0, f"no changes, {plan.summary.no_op} object(s) in sync", True)
    return PassResult("ok", 0, f"applied {len(report.results)} item(s)", True)
