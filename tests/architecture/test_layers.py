"""The driver's layers only import downwards: cli → run → reconcile → apply → core, and
nothing but the command line imports click, draws on the terminal (rich) or imports the
command line itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "controller"

UI = ("controller.cli", "click", "rich")
FORBIDDEN = {
    "controller.reconcile": (*UI, "controller.run"),
    "controller.run": UI,
    "controller.apply": (*UI, "controller.run", "controller.reconcile"),
    "controller.tanium": (*UI, "controller.run", "controller.reconcile", "controller.apply"),
    "controller.sources": (*UI, "controller.run", "controller.reconcile", "controller.apply"),
    "controller.errors": ("controller.",),
    "controller.retry": ("controller.cli", "controller.tanium", "controller.sources"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def modules_of(layer: str) -> list[Path]:
    relative = Path(*layer.split(".")[1:])
    folder = PACKAGE / relative
    if folder.is_dir():
        return sorted(folder.rglob("*.py"))
    return [folder.with_suffix(".py")]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(layer: str) -> None:
    wrong = {
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path in modules_of(layer)
        for name in imports_of(path)
        if any(
            name == f or name.startswith(f if f.endswith(".") else f + ".")
            for f in FORBIDDEN[layer]
        )
        and not (layer == "controller.errors" and name == "controller.errors")
    }
    assert not wrong, sorted(wrong)
