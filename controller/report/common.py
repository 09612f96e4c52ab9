"""Shared vocabulary of the renderings."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from controller.core.plan import Plan, PlanItem, Skipped

SYMBOL = {"create": "+", "update": "~", "delete": "-", "no-op": " "}
VERB = {"create": "create", "update": "update", "delete": "delete", "no-op": "keep"}
STYLE = {"create": "green", "update": "yellow", "delete": "red", "no-op": "dim"}
KIND_ORDER = {"label": 0, "intel": 1, "blocklist": 2, "deploy": 3, "scan": 4, "pivot": 5}
ACTION_ORDER = {"create": 0, "update": 1, "delete": 2, "no-op": 3}
SKIP_LIMIT = 20


def actionable(plan: Plan) -> list[PlanItem]:
    """Items that change something (blocked ones included, marked), in apply order."""
    items = [i for i in plan.items if i.action != "no-op"]
    return sorted(items, key=lambda i: (KIND_ORDER[i.kind], ACTION_ORDER[i.action], i.name, i.key))


def summary_line(plan: Plan) -> str:
    s = plan.summary
    if not plan.has_changes and not plan.has_blocked:
        return f"No changes. Tanium is in sync ({s.no_op} object(s) up to date)."
    line = (
        f"Plan: {s.create} to create, {s.update} to update, {s.delete} to delete, "
        f"{s.no_op} unchanged"
    )
    if s.blocked:
        line += f", {s.blocked} blocked by a safety guard"
    steps = sum(
        1 for i in plan.items if i.kind not in ("intel", "blocklist") and i.action != "no-op"
    )
    if steps:  # counted apart, so the counts above are the intel and blocklist lines shown
        line += f"; then {steps} label, deploy or scan step(s)"
    return line + "."


def short(value: Any, limit: int = 80) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    text = text.replace("\n", " ")
    if not text:
        text = "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def skipped_by_reason(plan: Plan) -> dict[str, list[Skipped]]:
    groups: dict[str, list[Skipped]] = defaultdict(list)
    for skipped in plan.skipped:
        groups[skipped.reason].append(skipped)
    return dict(sorted(groups.items()))


def item_title(item: PlanItem) -> str:
    name = item.name or item.key
    if item.kind in ("intel", "blocklist") and item.key not in name:
        return f"{name}  ({item.key})"
    return name


def policies_of(item: PlanItem) -> tuple[str, ...]:
    """The policies that produced `item` (its origins); () for items no policy made."""
    return item.origins.policies if item.origins is not None else ()


def target_line(plan: Plan, quote: str = "") -> str:
    """`Target: Tanium <url>, source <name>, planned against a snapshot of <date>` (the parts
    the plan records; "" when none); `quote` wraps the URL and the source (Markdown: a
    backtick)."""
    parts = []
    if plan.inputs.tanium_url:
        parts.append(f"Tanium {quote}{plan.inputs.tanium_url}{quote}")
    if plan.inputs.source_name:
        parts.append(f"source {quote}{plan.inputs.source_name}{quote}")
    taken = plan.inputs.snapshot_taken_at
    if taken is not None:
        parts.append(f"planned against a snapshot of {taken.strftime('%Y-%m-%d %H:%M UTC')}")
    return "Target: " + ", ".join(parts) if parts else ""


def origins_note(item: PlanItem) -> str:
    """`  ← policy-a, policy-b · 16 OpenCTI objects`: where an item came from, in one line's
    tail (the ids themselves are in the JSON plan's `items[].origins`)."""
    origins = item.origins
    if origins is None or not (origins.policies or origins.objects):
        return ""
    parts = []
    if origins.policies:
        parts.append(", ".join(origins.policies))
    if origins.objects:
        count = len(origins.objects)
        parts.append(f"{count} OpenCTI object{'s' if count != 1 else ''}")
    return "  ← " + " · ".join(parts)
