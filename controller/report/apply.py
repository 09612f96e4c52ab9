"""The per-item result report of an apply."""

from __future__ import annotations

from rich.text import Text

from controller.apply import ApplyReport
from controller.report.common import item_title


def render_apply_report(report: ApplyReport) -> Text:
    out = Text()
    failed = report.failed
    blocked = [r for r in report.results if r.status == "blocked"]
    for result in failed:
        out.append("  ✗ ", style="bold red")
        out.append(f"{result.item.action} {result.item.kind} {item_title(result.item)}: ")
        out.append(f"{result.message}\n", style="red")
    for result in blocked:
        out.append("  ■ ", style="yellow")
        out.append(f"{result.item.action} {result.item.kind} {item_title(result.item)}: ")
        out.append(f"{result.message}\n", style="yellow")
    side = [r for r in report.results if r.item.kind in ("deploy", "scan") and r.status == "ok"]
    for result in side:
        out.append("  ✓ ", style="green")
        out.append(f"{result.item.name} {result.message}\n".rstrip() + "\n")
    line = (
        f"Apply {'finished with errors' if failed else 'complete'}: "
        f"{report.count('ok', 'create')} created, {report.count('ok', 'update')} updated, "
        f"{report.count('ok', 'delete')} deleted"
    )
    if failed:
        line += f", {len(failed)} failed"
    if blocked:
        line += f", {len(blocked)} blocked by a safety guard"
    out.append("\n" + line + ".\n", style="bold red" if failed else "bold green")
    return out
