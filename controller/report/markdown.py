"""The Markdown rendering, for a pull-request comment a reviewer can trust at a glance.

Top to bottom: a header naming the commit and the Tanium target, the one-line summary with
its counts by kind, the guards that block, then the changes — blocked first, then deletes,
updates (changed fields only), creates, labels and side effects — each grouped by policy and
reason, long groups collapsed with their counts; skipped objects and diagnostics in collapsed
sections of their own; the guards table. The counts of the summary are the counts of the
lines shown under Blocked, Delete, Update and Create (intel and blocklist items).

Size-aware (`fit`): never longer than `limit` characters. When the whole plan would not fit,
every section heading, every group count, the summary, the guards and every error stay, and
item lines are cut — deletes and blocked ones last — each cut group saying how many lines are
not shown and where the full plan is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from controller.core.plan import Plan, PlanItem
from controller.report.budget import DEFAULT_LIMIT, Group, Section, fit
from controller.report.common import (
    SKIP_LIMIT,
    SYMBOL,
    actionable,
    item_title,
    origins_note,
    policies_of,
    short,
    skipped_by_reason,
    summary_line,
    target_line,
)

__all__ = ["DEFAULT_LIMIT", "render_markdown"]

CHANGE_KINDS = ("intel", "blocklist")
"""The kinds the summary counts; labels, deploys and scans follow from them."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    plan: Plan,
    *,
    title: str | None = None,
    limit: int = DEFAULT_LIMIT,
    artifact: str | None = None,
) -> str:
    """`title`: the commit or change the plan is for (`--title`, else GITHUB_SHA).
    `artifact`: where the full plan is, named when lines had to be cut."""
    head = _header(plan, title)
    tail = _guards_table(plan)
    return fit(head, _sections(plan), tail, limit=limit, artifact=artifact)


# ---------------------------------------------------------------------------- header


def _header(plan: Plan, title: str | None) -> list[str]:
    heading = "### octi-tanium plan"
    if title:
        heading += f" for `{_cell(title)}`"
    lines = [heading, ""]
    target = target_line(plan, quote="`")
    if target:
        lines += [target, ""]
    lines += [f"**{summary_line(plan)}**", ""]
    by_kind = _by_kind(plan)
    if by_kind:
        lines += [by_kind, ""]
    s = plan.summary
    lines += [
        "| create | update | delete | unchanged | blocked | skipped |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {s.create} | {s.update} | {s.delete} | {s.no_op} | {s.blocked} | {len(plan.skipped)} |",
        "",
    ]
    failing = [g for g in plan.guards if not g.ok]
    if failing:
        lines.append("> [!CAUTION]")
        lines += [f"> **{g.name}**: {_cell(g.detail)}" for g in failing]
        lines.append("")
    return lines


def _by_kind(plan: Plan) -> str:
    """`intel: +2 ~1 -1 · blocklist: -1 blocked` — the summary's counts per kind."""
    parts = []
    for kind in CHANGE_KINDS:
        items = [i for i in plan.items if i.kind == kind and i.action != "no-op"]
        counts = [
            f"{SYMBOL[action]}{n}"
            for action in ("create", "update", "delete")
            if (n := sum(1 for i in items if i.action == action and not i.blocked))
        ]
        if blocked := sum(1 for i in items if i.blocked):
            counts.append(f"{blocked} blocked")
        if counts:
            parts.append(f"{kind}: {' '.join(counts)}")
    return "By kind: " + " · ".join(parts) if parts else ""


# ---------------------------------------------------------------------------- changes


def _sections(plan: Plan) -> list[Section]:
    items = actionable(plan)
    counted = [i for i in items if i.kind in CHANGE_KINDS]
    sections = [
        _changes("Blocked by a safety guard", [i for i in counted if i.blocked], open_=True),
        _changes("Delete", _of(counted, "delete"), open_=True),
        _changes("Update", _of(counted, "update"), open_=True),
        _changes("Create", _of(counted, "create"), open_=False),
        _changes(
            "Labels, deploys and scans",
            [i for i in items if i.kind not in CHANGE_KINDS and not i.blocked],
            open_=False,
        ),
        _skipped(plan),
        _diagnostics(plan),
        _unowned(plan),
    ]
    return [s for s in sections if s.count]


def _of(items: Iterable[PlanItem], action: str) -> list[PlanItem]:
    return [i for i in items if i.action == action and not i.blocked]


def _changes(title: str, items: list[PlanItem], *, open_: bool) -> Section:
    groups: dict[str, list[PlanItem]] = {}
    for item in items:
        groups.setdefault(_group_heading(item), []).append(item)
    return Section(
        title=title,
        count=len(items),
        open=open_,
        groups=[
            Group(heading, len(members), _item_lines(members), fence="diff")
            for heading, members in sorted(groups.items())
        ],
    )


def _group_heading(item: PlanItem) -> str:
    policies = policies_of(item)
    policy = f"policy {', '.join(policies)} · " if policies else ""
    guard = f" · blocked by {item.guard}" if item.blocked and item.guard else ""
    return f"{policy}{item.reason}{guard}"


def _item_lines(items: list[PlanItem]) -> list[str]:
    lines = []
    for item in items:
        line = f"{SYMBOL[item.action]} {item.kind:<9} {item_title(item)}"
        line += origins_note(item)
        lines.append(line)
        lines.extend(f"!     {c.field}: {short(c.before)} → {short(c.after)}" for c in item.changes)
    return lines


# ---------------------------------------------------------------------------- the rest


def _skipped(plan: Plan) -> Section:
    groups = []
    for reason, entries in skipped_by_reason(plan).items():
        rows = [
            f"- {_cell(short(s.name or s.key, 60))} `{s.key}`"
            + (f": {_cell(short(s.detail, 160))}" if s.detail else "")
            for s in entries[:SKIP_LIMIT]
        ]
        if len(entries) > SKIP_LIMIT:
            rows.append(f"- … {len(entries) - SKIP_LIMIT} more (see the full plan)")
        groups.append(Group(reason, len(entries), rows))
    return Section("Skipped", len(plan.skipped), open=False, groups=groups)


def _diagnostics(plan: Plan) -> Section:
    def line(icon: str) -> Callable[[str | None, str], str]:
        return lambda key, message: f"- {icon} " + (f"`{key}`: " if key else "") + _cell(message)

    errors = [line("❌")(d.key, d.message) for d in plan.diagnostics if d.severity == "error"]
    others = [line("⚠️")(d.key, d.message) for d in plan.diagnostics if d.severity != "error"]
    groups = []
    if errors:
        groups.append(Group("errors", len(errors), errors, keep=True))
    if others:
        groups.append(Group("warnings", len(others), others))
    return Section("Diagnostics", len(plan.diagnostics), open=bool(errors), groups=groups)


def _unowned(plan: Plan) -> Section:
    note = (
        f"{plan.unowned} object(s) in the managed source carry no valid octi-tanium marker: "
        "reported, never modified."
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for obj in plan.unowned_objects:
        why = obj.why.split(" (")[0]
        groups.setdefault((obj.kind, why), []).append(
            f"- {_cell(short(obj.name, 80))} (Tanium id {obj.tanium_id}): {_cell(obj.why)}"
        )
    listed = []
    for (kind, why), rows in sorted(groups.items()):
        shown = rows[:SKIP_LIMIT]
        if len(rows) > SKIP_LIMIT:
            shown.append(f"- … {len(rows) - SKIP_LIMIT} more (see the full plan)")
        listed.append(Group(f"{kind} · {why}", len(rows), shown))
    return Section("Not ours", plan.unowned, open=False, groups=listed, note=note)


def _guards_table(plan: Plan) -> list[str]:
    if not plan.guards:
        return []
    lines = ["| guard | ok | detail |", "|---|:---:|---|"]
    lines += [f"| {g.name} | {'✅' if g.ok else '❌'} | {_cell(g.detail)} |" for g in plan.guards]
    return [*lines, ""]
