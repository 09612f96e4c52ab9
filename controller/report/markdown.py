"""The Markdown rendering, for a pull-request comment."""

from __future__ import annotations

from controller.core.plan import Plan
from controller.report.common import (
    SKIP_LIMIT,
    SYMBOL,
    actionable,
    item_title,
    origins_note,
    short,
    skipped_by_reason,
    summary_line,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    s = plan.summary
    lines = ["### octi-tanium plan", ""]
    failing = [g for g in plan.guards if not g.ok]
    lines.append(f"**{summary_line(plan)}**")
    lines.append("")
    lines.append("| create | update | delete | unchanged | blocked | skipped |")
    lines.append("|---:|---:|---:|---:|---:|---:|")
    lines.append(
        f"| {s.create} | {s.update} | {s.delete} | {s.no_op} | {s.blocked} | {len(plan.skipped)} |"
    )
    lines.append("")
    if failing:
        lines.append("> [!CAUTION]")
        for guard in failing:
            lines.append(f"> **{guard.name}**: {_cell(guard.detail)}")
        lines.append("")
    items = actionable(plan)
    if items:
        lines.append("<details open><summary>Changes</summary>")
        lines.append("")
        lines.append("```diff")
        for item in items:
            blocked = f"  (BLOCKED by {item.guard})" if item.blocked else ""
            lines.append(
                f"{SYMBOL[item.action]} {item.kind:<9} {item_title(item)}  [{item.reason}]"
                f"{origins_note(item)}{blocked}"
            )
            for change in item.changes:
                lines.append(
                    f"!     {change.field}: {short(change.before)} → {short(change.after)}"
                )
        lines.append("```")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    groups = skipped_by_reason(plan)
    if groups:
        lines.append(f"<details><summary>Skipped ({len(plan.skipped)})</summary>")
        lines.append("")
        lines.append("| reason | object | key | detail |")
        lines.append("|---|---|---|---|")
        for reason, entries in groups.items():
            for skipped in entries[:SKIP_LIMIT]:
                lines.append(
                    f"| {reason} | {_cell(short(skipped.name, 60))} | `{skipped.key}` | "
                    f"{_cell(skipped.detail)} |"
                )
            if len(entries) > SKIP_LIMIT:
                lines.append(f"| {reason} | … {len(entries) - SKIP_LIMIT} more | | |")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    if plan.diagnostics:
        lines.append(f"<details><summary>Diagnostics ({len(plan.diagnostics)})</summary>")
        lines.append("")
        for diag in plan.diagnostics:
            icon = "❌" if diag.severity == "error" else "⚠️"
            subject = f"`{diag.key}`: " if diag.key else ""
            lines.append(f"- {icon} {subject}{_cell(diag.message)}")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    if plan.unowned:
        lines.append(
            f"> {plan.unowned} object(s) in the managed source carry no valid octi-tanium "
            "marker: reported, never modified."
        )
        lines.append("")
    lines.append("| guard | ok | detail |")
    lines.append("|---|:---:|---|")
    for guard in plan.guards:
        lines.append(f"| {guard.name} | {'✅' if guard.ok else '❌'} | {_cell(guard.detail)} |")
    lines.append("")
    return "\n".join(lines)
