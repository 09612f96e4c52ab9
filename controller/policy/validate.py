"""`octi-tanium validate`: every problem of every policy file, as text or as JSON.

The JSON has the shape of `terraform validate -json`, so editors and CI annotators that read
one read the other; text and JSON come from the same diagnostics, with the same positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.core.diagnostics import count
from controller.policy.loader import LoadResult, load_policies

FORMAT_VERSION = "1.0"


def validate(root: Path) -> LoadResult:
    """Load the policies under `root` and run every check (offline: no OpenCTI, no Tanium)."""
    return load_policies(root)


def format_text(result: LoadResult) -> str:
    """Each diagnostic with its file:line:col and snippet, then a one-line summary (no final
    newline: `click.echo` adds it)."""
    blocks = [d.text() for d in result.diagnostics]
    errors = count(result.diagnostics, "error")
    warnings = count(result.diagnostics, "warning")
    files = len(result.files)
    scope = f"{files} file{'' if files == 1 else 's'}"
    if errors:
        summary = (
            f"{errors} error{'' if errors == 1 else 's'}, "
            f"{warnings} warning{'' if warnings == 1 else 's'} in {scope}"
        )
    else:
        summary = f"Success! {scope} valid"
        if warnings:
            summary += f", {warnings} warning{'' if warnings == 1 else 's'}"
    blocks.append(summary + ".")
    return "\n\n".join(blocks)


def format_json(result: LoadResult) -> dict[str, Any]:
    """The `terraform validate -json` shape."""
    return {
        "format_version": FORMAT_VERSION,
        "valid": result.ok,
        "error_count": count(result.diagnostics, "error"),
        "warning_count": count(result.diagnostics, "warning"),
        "diagnostics": [d.terraform_json() for d in result.diagnostics],
    }
