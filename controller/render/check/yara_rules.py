"""YARA, compiled with the real engine (yara-python) as Tanium will compile it; cached by hash.

Tanium runs YARA 4.3 with the modules pe, elf, dotnet, hash, cuckoo, math, magic, macho, dex,
string and time. The local engine may lack some of them (stock yara-python: no cuckoo, magic,
macho, dex); it accepts their `import` silently and fails only where the rule uses them, with
an unrelated message (`invalid field name "sync"`). So a failure on a line that uses a module
Tanium has and the local engine lacks is a warning ("not checked locally"), told apart by the
rule's imports, never by the message. A module Tanium lacks is an error.

External variables: public rule sets use those of the LOKI/THOR file scanners (`filename`,
`owner`, ...). They are strings there, and the Tanium emulator defines them as strings; whether
Tanium itself defines them is not documented. So a rule that uses one is compiled with it
declared as a string and gets a warning; a rule that uses one as a number (`owner > 5`) does not
compile anywhere and is an error. Any other identifier defined nowhere in the content (a rule
of another file) is an error: Tanium compiles every document alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import yara

from controller.core.diagnostics import Severity
from controller.render.check.verdict import Problem, Verdict

TANIUM_MODULES = (
    "pe", "elf", "dotnet", "hash", "cuckoo", "math", "magic", "macho", "dex", "string", "time",
)  # fmt: skip
LOCAL_MODULES = frozenset(yara.modules)
KNOWN_EXTERNALS = ("filename", "filepath", "extension", "filetype", "md5", "owner", "fullpath")
"""String external variables of the LOKI/THOR file scanners that public rule sets use."""

_RULE = re.compile(r"^[ \t]*(?:(?:private|global)\s+)*rule\s+([A-Za-z_]\w*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import\b", re.MULTILINE)
_MODULE = re.compile(r'\s*"([^"\n]+)"')
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)
_UNDEFINED = re.compile(r'undefined identifier "(\w+)"')
_CACHE: dict[str, Verdict] = {}
_CACHE_LIMIT = 200_000

_HIDDEN = re.compile(
    r'(?P<string>"(?:\\.|[^"\\\n])*")'
    r"|(?P<pre>(?:=|\bmatches)\s*)(?P<regex>/(?:\\.|[^/\\\n])+/)"
    r"|(?P<comment>//[^\n]*|/\*.*?\*/)",
    re.DOTALL,
)


def _blank(match: re.Match[str]) -> str:
    pre = match.group("pre") or ""
    hidden = match.group(0)[len(pre) :]
    return pre + re.sub(r"[^\n]", " ", hidden)


def _code(text: str) -> str:
    """`text` with comments and the insides of strings and regexes blanked (lines kept)."""
    return _HIDDEN.sub(_blank, text)


def imports(text: str) -> dict[str, int]:
    """The modules `text` imports (outside comments), each with the line of its first import."""
    found: dict[str, int] = {}
    code = _code(text)
    for match in _IMPORT.finditer(code):
        module = _MODULE.match(text, match.end())
        if module:
            found.setdefault(module.group(1), code.count("\n", 0, match.start()) + 1)
    return found


def rule_names(text: str) -> tuple[str, ...]:
    return tuple(m.group(1) for m in _RULE.finditer(_code(text)))


def _rule_at(code: str, line: int) -> str | None:
    """The rule whose text holds 1-based `line` (the nearest rule header at or above it)."""
    found = None
    for match in _RULE.finditer(code):
        if code.count("\n", 0, match.start()) + 1 > line:
            break
        found = match.group(1)
    return found


def _split(text: str) -> tuple[int | None, str]:
    """`line 4: syntax error` → (4, "syntax error")."""
    found = _LINE.match(text)
    return (int(found.group(1)), found.group(2)) if found else (None, text)


def check_yara(text: str) -> Verdict:
    """Compile `text` as Tanium would; the verdict is cached by the SHA-256 of the text."""
    digest = _digest(text)
    cached = _CACHE.get(digest)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[digest] = _check(text)
    return cached


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _check(text: str) -> Verdict:
    lines = text.splitlines()
    code = _code(text)
    rules = rule_names(text)
    problems: list[Problem] = []

    def done(
        severity: Severity | None = None, message: str = "", line: int | None = None
    ) -> Verdict:
        if severity is not None:
            problems.append(problem(severity, message, line))
        return Verdict(tuple(problems), rules)

    def problem(severity: Severity, message: str, line: int | None) -> Problem:
        inside = line is not None and 0 < line <= len(lines)
        text_at = lines[line - 1].strip() if inside and line else ""
        rule = _rule_at(code, line) if line else None
        return Problem(severity, message, line, rule, text_at)

    if "\x00" in text:
        return done("error", "the rule text contains a NUL character")
    imported = imports(text)
    unsupported = [(m, n) for m, n in imported.items() if m not in TANIUM_MODULES]
    if unsupported:
        names = ", ".join(f"'{m}'" for m, _ in unsupported)
        said = f"module {names} is" if len(unsupported) == 1 else f"modules {names} are"
        return done(
            "error",
            f"{said} not available in Tanium (Tanium has: {', '.join(TANIUM_MODULES)})",
            unsupported[0][1],
        )
    if not rules:
        return done("error", "the content holds no YARA rule")
    lacking = sorted(set(imported) & (set(TANIUM_MODULES) - LOCAL_MODULES))
    externals: dict[str, str] = {}
    for _attempt in range(len(KNOWN_EXTERNALS) + 1):
        try:
            compiled = yara.compile(source=text, externals=externals, includes=False)
        except yara.SyntaxError as exc:
            line, message = _split(str(exc))
            source = lines[line - 1] if line and 0 < line <= len(lines) else ""
            undefined = _UNDEFINED.search(message)
            name = undefined.group(1) if undefined else None
            if name is not None and name not in externals:
                if name not in KNOWN_EXTERNALS:
                    return done(
                        "error",
                        f"{message}: not a rule or module of this content, nor an external "
                        f"variable file scanners define ({', '.join(KNOWN_EXTERNALS)}); a rule "
                        "from another file cannot be used: Tanium compiles this content alone",
                        line,
                    )
                externals[name] = ""
                problems.append(
                    problem(
                        "warning",
                        f"uses the external variable '{name}' of the LOKI/THOR file scanners: "
                        "checked as the string it is there; Tanium must define it or the rule "
                        "will not compile there",
                        line,
                    )
                )
                continue
            module = next((m for m in lacking if re.search(rf"\b{m}\s*\.", source)), None)
            if module is not None:
                local = ", ".join(sorted(LOCAL_MODULES - {"tests"}))
                return done(
                    "warning",
                    f"uses module '{module}', which Tanium has but the local YARA lacks "
                    f"(local modules: {local}): not checked from here on ({message})",
                    line,
                )
            if "includes are disabled" in message:
                message = "include is not supported: Tanium receives this content alone"
            strings = [n for n in externals if re.search(rf"\b{n}\b", source)]
            if strings and "type" in message:
                message += (
                    f" ({', '.join(repr(n) for n in strings)}: a string external variable in "
                    "the file scanners that define it)"
                )
            return done("error", message, line)
        except yara.Error as exc:
            line, message = _split(str(exc))
            return done("error", message, line)
        for warning in getattr(compiled, "warnings", None) or ():
            line, said = _split(str(warning))
            problems.append(problem("warning", said, line))
        return done()
    return done("error", "too many undefined identifiers")


def _plain(text: str) -> bool:
    """Whether a batch compile can vouch for `text`: no module needing special handling, no
    NUL (the engine would stop reading there), at least one rule."""
    local = set(TANIUM_MODULES) & LOCAL_MODULES
    return "\x00" not in text and set(imports(text)) <= local and bool(rule_names(text))


def prefetch_yara(texts: Iterable[str]) -> None:
    """Check many rules at once and cache the verdicts (compiling costs ~3 ms per call, mostly
    fixed overhead: one call for a thousand rules takes about as long as a few single calls).

    Each text is compiled in its own namespace, so rules never see each other (as in Tanium,
    where every intel document is compiled separately). A batch that fails or warns is split
    in two until the culprits are checked alone, with their exact messages.
    """
    pending: dict[str, str] = {}
    for text in texts:
        digest = _digest(text)
        if digest not in _CACHE and digest not in pending:
            pending[digest] = text
    if len(_CACHE) + len(pending) >= _CACHE_LIMIT:
        _CACHE.clear()
    plain = [(d, t) for d, t in pending.items() if _plain(t)]
    for digest, text in pending.items():
        if not _plain(text):
            _CACHE[digest] = _check(text)
    _batch(plain)


def _batch(items: list[tuple[str, str]]) -> None:
    if len(items) <= 2:
        for digest, text in items:
            _CACHE[digest] = _check(text)
        return
    try:
        sources = {f"doc{i}": text for i, (_, text) in enumerate(items)}
        compiled = yara.compile(sources=sources, includes=False)
        clean = not (getattr(compiled, "warnings", None) or ())
    except (yara.Error, ValueError):
        clean = False
    if clean:
        for digest, text in items:
            _CACHE[digest] = Verdict(rules=rule_names(text))
        return
    middle = len(items) // 2
    _batch(items[:middle])
    _batch(items[middle:])
