"""Compile YARA held in Git the way Tanium will, and say precisely what is wrong.

Tanium runs YARA 4.3 with the modules pe, elf, dotnet, hash, cuckoo, math, magic, macho, dex,
string and time. The local yara-python may lack some of them (4.5.4 has no cuckoo, magic,
macho or dex); it accepts their `import` silently and fails only where the rule uses the
module (`invalid field name "sync"`). Such a failure is a warning ("module missing locally"),
told apart from a real error by the rule's imports, not by the message. A rule that uses
identifiers defined nowhere (external variables, rules from another document) is compiled
with placeholder externals and warned about; anything else that fails to compile is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yara

from controller.core.diagnostics import Severity

TANIUM_YARA_MODULES = (
    "pe", "elf", "dotnet", "hash", "cuckoo", "math", "magic", "macho", "dex", "string", "time",
)  # fmt: skip
_IMPORT = re.compile(r'^\s*import\s+"([^"]*)"', re.MULTILINE)
_RULE = re.compile(r"^\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)")
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)
_UNDEFINED = re.compile(r'undefined identifier "([A-Za-z_][A-Za-z0-9_]*)"')
_MAX_EXTERNALS = 32
KNOWN_EXTERNALS = ("filename", "filepath", "extension", "filetype", "md5", "owner", "fullpath")
"""External variables of the LOKI/THOR file scanners that public rule sets use; whether
Tanium defines them is not documented (the emulator has a switch), so using one is a warning."""


@dataclass(frozen=True)
class YaraProblem:
    severity: Severity
    message: str
    line: int | None = None
    """1-based line in the YARA source."""
    rule: str | None = None
    """The rule that line belongs to."""
    text: str = ""
    """The source line itself."""


def rule_names(source: str) -> list[str]:
    return [m.group(1) for line in source.splitlines() if (m := _RULE.match(line))]


def rule_at(lines: list[str], line: int) -> str | None:
    """The rule whose text contains 1-based `line` (the nearest rule header above it)."""
    for index in range(min(line, len(lines)) - 1, -1, -1):
        match = _RULE.match(lines[index])
        if match:
            return match.group(1)
    return None


def check_yara(source: str, *, local_modules: tuple[str, ...] | None = None) -> list[YaraProblem]:
    """Every problem YARA reports for `source`, as errors and warnings."""
    lines = source.splitlines()
    local = tuple(yara.modules) if local_modules is None else local_modules
    problems: list[YaraProblem] = []

    def problem(severity: Severity, message: str, line: int | None) -> YaraProblem:
        text = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        rule = rule_at(lines, line) if line else None
        return YaraProblem(severity, message, line, rule, text)

    imports: dict[str, int] = {}
    for match in _IMPORT.finditer(source):
        imports.setdefault(match.group(1), source.count("\n", 0, match.start()) + 1)
    for module, import_line in imports.items():
        if module not in TANIUM_YARA_MODULES:
            problems.append(
                problem(
                    "error",
                    f"module '{module}' is not available in Tanium "
                    f"(Tanium has: {', '.join(TANIUM_YARA_MODULES)})",
                    import_line,
                )
            )
    missing = [m for m in imports if m in TANIUM_YARA_MODULES and m not in local]
    unsupported_lines = {n for m, n in imports.items() if m not in TANIUM_YARA_MODULES}
    if not rule_names(source):
        problems.append(problem("error", "the content holds no YARA rule", None))
        return problems

    externals: dict[str, str | int] = {}
    for _attempt in range(_MAX_EXTERNALS * 2 + 1):
        try:
            compiled = yara.compile(source=source, externals=externals or None, includes=False)
        except yara.SyntaxError as exc:
            line, message = _split(str(exc))
            text = lines[line - 1] if line and 0 < line <= len(lines) else ""
            undefined = _UNDEFINED.search(message)
            if undefined and undefined.group(1) not in KNOWN_EXTERNALS:
                problems.append(
                    problem(
                        "error",
                        f"{message}: not a rule or module of this content, nor an external "
                        f"variable scanners define ({', '.join(KNOWN_EXTERNALS)}); a rule from "
                        "another file cannot be used: Tanium compiles this content alone",
                        line,
                    )
                )
                return problems
            if undefined and undefined.group(1) not in externals:
                if len(externals) >= _MAX_EXTERNALS:
                    problems.append(problem("error", message, line))
                    return problems
                name = undefined.group(1)
                externals[name] = _placeholder(name, source)
                problems.append(
                    problem(
                        "warning",
                        f"'{name}' is an external variable of file scanners: checked with a "
                        "placeholder; Tanium must define it or the rule will not compile there",
                        line,
                    )
                )
                continue
            retyped = _retype(externals, message, line, source)
            if retyped:
                continue
            lacking = next((m for m in missing if re.search(rf"\b{m}\s*\.", text)), None)
            if lacking is not None:
                problems.append(
                    problem(
                        "warning",
                        f"uses module '{lacking}', which Tanium has but the local YARA lacks "
                        f"(local modules: {', '.join(sorted(set(local) - {'tests'}))}): "
                        f"not checked from here on ({message})",
                        line,
                    )
                )
                return problems
            if line in unsupported_lines:
                return problems  # the unsupported import, already reported
            if "includes are disabled" in message:
                message = "include is not supported: Tanium receives this content alone"
            problems.append(problem("error", message, line))
            return problems
        except yara.Error as exc:
            problems.append(problem("error", str(exc), None))
            return problems
        else:
            for warning in getattr(compiled, "warnings", None) or ():
                warning_line, said = _split(str(warning))
                problems.append(problem("warning", said, warning_line))
            return problems
    return problems


def _split(text: str) -> tuple[int | None, str]:
    """`line 4: syntax error` → (4, "syntax error")."""
    found = _LINE.match(text)
    return (int(found.group(1)), found.group(2)) if found else (None, text)


def _placeholder(name: str, source: str) -> str | int:
    """A placeholder of the type the rule uses `name` as: a number next to arithmetic or an
    ordering comparison or `== 5`, otherwise a string (which also passes as a boolean)."""
    n = re.escape(name)
    numeric = (
        rf"\b{n}\s*(?:[<>]=?|[-+*\\%&|^]|==\s*[0-9(-]|!=\s*[0-9(-])"
        rf"|(?:[<>]=?|[-+*\\%&|^]|[=!]=)\s*{n}\b(?!\s*(?:==|!=)\s*\")"
    )
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', source)  # strings cannot confuse it
    return 0 if re.search(numeric, text) else ""


def _retype(externals: dict[str, str | int], message: str, line: int | None, source: str) -> bool:
    """A type error where a placeholder external is used: flip the one that fixes that line."""
    if "type" not in message:
        return False
    for name, value in externals.items():
        trial = {**externals, name: 0 if isinstance(value, str) else ""}
        try:
            yara.compile(source=source, externals=trial, includes=False)
        except yara.Error as exc:
            at, said = _split(str(exc))
            if at == line and "type" in said:
                continue  # still a type error on that line: not this one
        externals[name] = trial[name]
        return True
    return False
