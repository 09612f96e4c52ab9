"""The layers, enforced: the pure core (and the renderers it uses) perform no I/O.

Two checks, because each catches what the other cannot:
- importing every core module in a fresh interpreter loads none of the I/O libraries
  (transitively: a pure module importing an impure one fails here);
- the source of every core module names no file, clock, environment, process or network API
  (directly: a call to `open()` or `datetime.now()` fails here).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("controller/core", "controller/render")

# Libraries that mean I/O, a terminal, a command line or a file format the core must not read.
FORBIDDEN_LIBRARIES = {"httpx", "httpcore", "rich", "click", "ruamel", "uvicorn", "starlette"}
# Standard-library modules that mean files, processes, sockets, the environment or the clock.
FORBIDDEN_STDLIB = {
    "os",
    "pathlib",
    "shutil",
    "subprocess",
    "socket",
    "time",
    "tempfile",
    "asyncio",
    "threading",
    "random",
    "io",
}
# Calls that read the clock or touch files even when the module is imported for another reason.
FORBIDDEN_CALLS = {"open", "now", "utcnow", "today", "getenv", "time", "monotonic", "sleep"}


def pure_modules() -> list[Path]:
    return sorted(p for pkg in PURE_PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def offences(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            names = []
        for name in names:
            top = name.split(".")[0]
            if top in FORBIDDEN_STDLIB or top in FORBIDDEN_LIBRARIES:
                found.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: calls {called}()")
    return found


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_names_no_file_clock_environment_or_network_api(path: Path) -> None:
    problems = offences(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    assert not problems, f"{path.relative_to(ROOT)} is in the pure core but: {problems}"


def test_importing_the_core_loads_no_io_library() -> None:
    names = [module_name(p) for p in pure_modules()]
    probe = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    loaded = {m.split(".")[0] for m in json.loads(out)}
    assert not loaded & FORBIDDEN_LIBRARIES, sorted(loaded & FORBIDDEN_LIBRARIES)
    impure = [m for m in json.loads(out) if m.startswith("controller.") and not _pure_name(m)]
    assert not impure, f"the core imports impure controller modules: {impure}"


def _pure_name(module: str) -> bool:
    allowed = (
        "controller.core",
        "controller.render",
        "controller.policy.models",
        "controller.policy.fields",
        "controller.policy.located",
    )
    return module == "controller.policy" or module.startswith(allowed)


def test_the_checker_recognises_an_offence() -> None:
    """The test above can fail: a module that reads a file and the clock is caught."""
    bad = ast.parse("import os\nfrom datetime import datetime\nopen('x')\ndatetime.now()\n")
    assert [p.split(": ")[1] for p in offences(bad)] == [
        "imports os",
        "calls open()",
        "calls now()",
    ]
