"""Which Tanium a plan is made for, and from what: the live inventory or a snapshot of it.

`plan --actual snapshot:FILE` plans against a snapshot (`controller.tanium.snapshot`) so that a
pull request's CI needs no Tanium credential. Either way the plan records its target — the
Tanium URL without credentials and the managed source — and, for a snapshot, when it was
taken; `apply` refuses a plan made for another target (`check_target`) before the stale check
(`check_not_stale`) refuses one whose inventory moved, snapshot or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from controller.apply.checks import StalePlanError
from controller.core.model import ActualState
from controller.core.plan import Plan
from controller.errors import PipelineError
from controller.tanium.client import TaniumClient
from controller.tanium.pagination import PageMemo
from controller.tanium.snapshot import Snapshot, public_url, read_snapshot


@dataclass(frozen=True)
class ActualSpec:
    """`--actual`: `tanium` (read it live, TANIUM_*) or `snapshot:FILE`."""

    path: Path | None = None

    @classmethod
    def parse(cls, text: str) -> ActualSpec:
        if text == "tanium":
            return cls()
        if text.startswith("snapshot:") and len(text) > len("snapshot:"):
            return cls(Path(text[len("snapshot:") :]))
        raise PipelineError(
            f"unknown --actual {text!r}: use `tanium` (read it live) or `snapshot:FILE` "
            "(made by `octi-tanium snapshot --out FILE`)"
        )

    def __str__(self) -> str:
        return "tanium" if self.path is None else f"snapshot:{self.path}"


def live_url() -> str:
    """The Tanium of the environment (TANIUM_URL), without credentials."""
    from controller.tanium.settings import TaniumSettings

    return public_url(TaniumSettings.from_env().resolved().url)


async def read_actual(
    spec: ActualSpec,
    source_name: str,
    client: Callable[[], TaniumClient],
    *,
    adopt: Sequence[str] = (),
    pages: PageMemo | None = None,
) -> tuple[ActualState, Snapshot | None, str]:
    """Tanium's owned inventory (live, or from the snapshot), the snapshot when there is one,
    and the Tanium URL it describes. `pages`: see `TaniumReads.read_state`."""
    if spec.path is None:
        url = live_url()
        async with client() as tanium:
            return await tanium.read_state(source_name, adopt, pages=pages), None, url
    snapshot = read_snapshot(spec.path)
    if snapshot.source != source_name:
        raise PipelineError(
            f"{spec.path}: the snapshot is of the intel source {snapshot.source!r}, but the "
            f"policies manage {source_name!r}: take a snapshot with these policies "
            "(`octi-tanium snapshot --policies … --out FILE`)"
        )
    return snapshot.state, snapshot, snapshot.tanium_url


def with_target(plan: Plan, tanium_url: str, snapshot: Snapshot | None) -> Plan:
    """`plan` recording the Tanium it was made for, and the snapshot's time when it was made
    against one."""
    taken: datetime | None = snapshot.taken_at if snapshot is not None else None
    inputs = replace(plan.inputs, tanium_url=tanium_url, snapshot_taken_at=taken)
    return replace(plan, inputs=inputs)


def describe_target(plan: Plan) -> str:
    """`https://tanium.example (source "octi-tanium")`, or the source alone for an old plan."""
    source = f'source "{plan.inputs.source_name}"'
    url = plan.inputs.tanium_url
    return f"{url} ({source})" if url else source


def check_target(plan: Plan, tanium_url: str, source_name: str) -> None:
    """Refuse to apply a plan made for another Tanium or another managed source. A plan that
    names no Tanium (made before plans recorded it) is left to the stale check."""
    url_differs = bool(plan.inputs.tanium_url) and plan.inputs.tanium_url != tanium_url
    source_differs = bool(plan.inputs.source_name) and plan.inputs.source_name != source_name
    if url_differs or source_differs:
        here = f'{tanium_url} (source "{source_name}")'
        raise StalePlanError(
            f"this plan was made for {describe_target(plan)}, not for {here}: apply it where "
            "it was made (TANIUM_URL), or make a plan for this Tanium with `octi-tanium plan`"
        )
