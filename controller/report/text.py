"""The Terraform-like terminal rendering: `+` create, `~` update, `-` delete."""

from __future__ import annotations

from rich.text import Text

from controller.core.plan import Plan
from controller.report.common import (
    SKIP_LIMIT,
    STYLE,
    SYMBOL,
    actionable,
    item_title,
    origins_note,
    short,
    skipped_by_reason,
    summary_line,
    target_line,
)


def render_text(plan: Plan) -> Text:
    out = Text()
    items = actionable(plan)
    if items:
        out.append("octi-tanium will perform the following actions:\n\n", style="bold")
    for item in items:
        style = "dim red" if item.blocked else STYLE[item.action]
        out.append(f"  {SYMBOL[item.action]} ", style=style)
        out.append(f"{item.kind:<9} ", style=style)
        out.append(item_title(item), style="bold" if not item.blocked else "dim")
        out.append(f"  [{item.reason}]", style="cyan")
        out.append(origins_note(item), style="dim")
        if item.blocked:
            out.append(f"  BLOCKED by {item.guard}", style="bold red")
        out.append("\n")
        for change in item.changes:
            out.append(f"      ~ {change.field}: ", style="yellow")
            out.append(f"{short(change.before)} → {short(change.after)}\n")
    _skipped(out, plan)
    if plan.unowned:
        out.append(
            f"\n{plan.unowned} object(s) in the managed source carry no valid octi-tanium marker: "
            "reported, never modified.\n",
            style="yellow",
        )
    out.append("\nGuards:\n", style="bold")
    for guard in plan.guards:
        out.append("  ✓ " if guard.ok else "  ✗ ", style="green" if guard.ok else "bold red")
        out.append(f"{guard.name}: {guard.detail}\n")
    if plan.inputs.tanium_url:  # plans made before plans recorded their target: nothing
        out.append("\n" + target_line(plan) + "\n")
    out.append("\n" + summary_line(plan) + "\n", style="bold")
    return out


def _skipped(out: Text, plan: Plan) -> None:
    """Skipped objects by reason; a diagnostic about a skipped object is shown on its line
    (not twice), the others — warnings about synced content — in their own section."""
    severity = {d.key: d.severity for d in plan.diagnostics if d.key}
    skipped_keys = {s.key for s in plan.skipped}
    groups = skipped_by_reason(plan)
    if groups and not plan.has_changes and not plan.has_blocked:
        counts = ", ".join(f"{reason} {len(entries)}" for reason, entries in groups.items())
        out.append(f"\nSkipped ({len(plan.skipped)}): ", style="bold")
        out.append(f"{counts} — each object with its reason: --format json\n", style="dim")
        groups = {}
    elif groups:
        out.append(f"\nSkipped ({len(plan.skipped)}):\n", style="bold")
    for reason, entries in groups.items():
        out.append(f"  {reason} ({len(entries)})\n", style="magenta")
        for skipped in entries[:SKIP_LIMIT]:
            level = severity.get(skipped.key)
            out.append("    ")
            if level is not None:
                out.append(f"{level}: ", style="red" if level == "error" else "yellow")
            out.append(f"{short(skipped.name, 60)}  {skipped.key}", style="dim")
            out.append(f" — {skipped.detail}\n" if skipped.detail else "\n", style="dim")
        if len(entries) > SKIP_LIMIT:
            out.append(
                f"    … and {len(entries) - SKIP_LIMIT} more (see --format json)\n", style="dim"
            )
    others = [d for d in plan.diagnostics if d.key not in skipped_keys]
    if others:
        out.append(f"\nDiagnostics ({len(others)}):\n", style="bold")
        for diag in others:
            subject = f"{diag.key}: " if diag.key else ""
            out.append(
                f"  {diag.severity}: ", style="red" if diag.severity == "error" else "yellow"
            )
            out.append(f"{subject}{diag.message}\n")


def render_text_plain(plan: Plan) -> str:
    return render_text(plan).plain
