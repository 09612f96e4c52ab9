"""The layers, from the source: the product and the emulators never import each other.

Every module under `controller/` and `sandbox/` is parsed with `ast` (nothing is imported or
executed), and every `import x`, `from x import y` and `importlib.import_module("x")` /
`__import__("x")` with a literal name is checked against what its package may not import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

EMULATOR_ONLY = frozenset({"octi_sandbox", "sdv", "stix_validator"})
"""The emulators and what only they use: never in the product."""
SERVER_STACK = frozenset({"starlette", "uvicorn"})
"""The product serves only its reconciler's health and /metrics endpoints."""
SERVER_STACK_ALLOWED = ("controller/reconciler.py", "controller/run/")


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`; relative imports stay in
    their own package and are skipped."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            literal = first.value if isinstance(first, ast.Constant) else None
            is_import = name in ("import_module", "__import__")
            if is_import and isinstance(literal, str) and not literal.startswith("."):
                yield node.lineno, literal


def violations(relpath: str, source: str) -> list[str]:
    """What `relpath` (e.g. `controller/cli.py`) imports that its layer forbids."""
    if relpath.startswith("controller/"):
        forbidden = set(EMULATOR_ONLY)
        if not relpath.startswith(SERVER_STACK_ALLOWED):
            forbidden |= SERVER_STACK
    elif relpath.startswith("sandbox/"):
        forbidden = {"controller"}
    else:
        return []
    return [
        f"{relpath}:{line}: imports {module}"
        for line, module in imported_modules(source)
        if module.split(".")[0] in forbidden
    ]


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("package", ["controller", "sandbox"])
def test_the_product_and_the_emulators_never_import_each_other(package: str) -> None:
    files = modules(package)
    assert len(files) > 20, f"no modules found under {ROOT / package}"
    found = [
        problem
        for path in files
        for problem in violations(
            path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        )
    ]
    assert found == []


def test_the_emulators_live_outside_the_product() -> None:
    assert not (ROOT / "controller" / "sandbox").exists()
    assert (ROOT / "sandbox" / "octi_sandbox" / "__init__.py").is_file()


@pytest.mark.parametrize(
    ("relpath", "source", "expected"),
    [
        ("controller/cli.py", "import octi_sandbox.tanium", ["imports octi_sandbox.tanium"]),
        ("controller/x.py", "from octi_sandbox import serve", ["imports octi_sandbox"]),
        ("controller/x.py", "def f():\n    import sdv", ["imports sdv"]),
        ("controller/x.py", "importlib.import_module('octi_sandbox')", ["imports octi_sandbox"]),
        ("controller/x.py", "from starlette.routing import Route", ["imports starlette.routing"]),
        ("controller/reconciler.py", "import uvicorn", []),
        ("controller/x.py", "from . import sandbox\nimport octi_tanium_extra", []),
        (
            "sandbox/octi_sandbox/opencti/store.py",
            "from controller.model import X",
            ["imports controller.model"],
        ),
        ("sandbox/octi_sandbox/a.py", "import controller", ["imports controller"]),
        ("sandbox/octi_sandbox/a.py", "from .tanium import app\nimport starlette", []),
    ],
)
def test_the_check_catches_a_forbidden_import(
    relpath: str, source: str, expected: list[str]
) -> None:
    assert [v.split(": ", 1)[1] for v in violations(relpath, source)] == expected
