"""YARA rules checked with the real engine (yara-python) at plan time, cached by content hash.

Tanium runs YARA 4.3 with the modules pe, elf, dotnet, hash, cuckoo, math, magic, macho, dex,
string and time. The local engine may lack some of them (stock yara-python: no cuckoo, magic,
macho, dex); it accepts their `import` silently and fails only where the rule uses them, with
an unrelated message (`invalid field name "sync"`). So a failure on a line that uses a module
Tanium has and the local engine lacks is a warning ("not checked locally"), told apart by the
rule's imports, never by the message. A module Tanium lacks is an error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import yara

from controller.policy.yara_check import KNOWN_EXTERNALS

TANIUM_MODULES = frozenset(
    {"pe", "elf", "dotnet", "hash", "cuckoo", "math", "magic", "macho", "dex", "string", "time"}
)
LOCAL_MODULES = frozenset(yara.modules)

_RULE = re.compile(r"^[ \t]*(?:(?:private|global)\s+)*rule\s+([A-Za-z_]\w*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import\b", re.MULTILINE)
_MODULE = re.compile(r'\s*"([^"\n]+)"')
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)
_UNDEFINED = re.compile(r'undefined identifier "(\w+)"')
_CACHE: dict[str, YaraCheck] = {}
_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class YaraCheck:
    error: str | None = None
    warnings: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    """Rule names in file order (private and global rules included)."""
    externals: tuple[str, ...] = ()


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


def imports(text: str) -> set[str]:
    """The modules `text` imports (outside comments)."""
    found = set()
    for match in _IMPORT.finditer(_code(text)):
        module = _MODULE.match(text, match.end())
        if module:
            found.add(module.group(1))
    return found


def rule_names(text: str) -> tuple[str, ...]:
    return tuple(m.group(1) for m in _RULE.finditer(_code(text)))


def _rule_at(text: str, line: int) -> str | None:
    found = None
    code = _code(text)
    for match in _RULE.finditer(code):
        if code.count("\n", 0, match.start()) + 1 > line:
            break
        found = match.group(1)
    return found


def _located(text: str, message: str) -> str:
    """`line 60: undefined identifier "x"` → `rule 'R', line 60: undefined identifier "x"`."""
    match = _LINE.match(message)
    if not match:
        return message
    line = int(match.group(1))
    rule = _rule_at(text, line)
    where = f"rule '{rule}', line {line}" if rule else f"line {line}"
    return f"{where}: {match.group(2)}"


def _missing_module_use(text: str, message: str, imports: set[str]) -> str | None:
    match = _LINE.match(message)
    if not match:
        return None
    lines = text.splitlines()
    line = int(match.group(1))
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    for module in sorted(imports & (TANIUM_MODULES - LOCAL_MODULES)):
        if re.search(rf"\b{module}\.", source):
            return module
    return None


def check_yara(text: str) -> YaraCheck:
    """Compile `text` as Tanium would; the result is cached by the SHA-256 of the text."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cached = _CACHE.get(digest)
    if cached is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        cached = _CACHE[digest] = _check(text)
    return cached


def _check(text: str) -> YaraCheck:
    rules = rule_names(text)
    if "\x00" in text:
        return YaraCheck(error="the rule text contains a NUL character", rules=rules)
    imported = imports(text)
    unsupported = sorted(imported - TANIUM_MODULES)
    if unsupported:
        return YaraCheck(
            error=f"module(s) {', '.join(unsupported)} not supported by Tanium's YARA "
            f"(supported: {', '.join(sorted(TANIUM_MODULES))})",
            rules=rules,
        )
    externals: dict[str, str] = {}
    warnings: list[str] = []
    while True:
        try:
            compiled = yara.compile(source=text, externals=externals, includes=False)
        except yara.SyntaxError as exc:
            message = str(exc)
            undefined = _UNDEFINED.search(message)
            name = undefined.group(1) if undefined else None
            if name in KNOWN_EXTERNALS and name not in externals:
                externals[name] = ""
                warnings.append(
                    f"{_located(text, message)}: uses the external variable '{name}' of the "
                    "LOKI/THOR scanners; checked with an empty placeholder, "
                    "Tanium may not define it"
                )
                continue
            module = _missing_module_use(text, message, imported)
            if module is not None:
                warnings.append(
                    f"{_located(text, message)}: uses module '{module}', which Tanium supports "
                    "but the local YARA engine lacks; the rule is not fully checked locally"
                )
                return YaraCheck(None, tuple(warnings), rules, tuple(externals))
            return YaraCheck(_located(text, message), tuple(warnings), rules, tuple(externals))
        except yara.Error as exc:
            return YaraCheck(_located(text, str(exc)), tuple(warnings), rules, tuple(externals))
        for warning in getattr(compiled, "warnings", None) or ():
            warnings.append(_located(text, str(warning)))
        if not rules:
            return YaraCheck("no rule in the document", tuple(warnings), rules, tuple(externals))
        return YaraCheck(None, tuple(warnings), rules, tuple(externals))


def _plain(text: str) -> bool:
    """Whether a batch compile can vouch for `text` (no module needing special handling)."""
    return imports(text) <= (TANIUM_MODULES & LOCAL_MODULES) and bool(rule_names(text))


def prefetch_yara(texts: Iterable[str]) -> None:
    """Check many rules at once and cache the results (compiling costs ~3 ms per call, mostly
    fixed overhead: one call for a thousand rules takes about as long as a few single calls).

    Each text is compiled in its own namespace, so rules never see each other (as in Tanium,
    where every intel document is compiled separately). A batch that fails or warns is split
    in two until the culprits are checked alone, with their exact messages.
    """
    pending: dict[str, str] = {}
    for text in texts:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
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
            _CACHE[digest] = YaraCheck(rules=rule_names(text))
        return
    middle = len(items) // 2
    _batch(items[:middle])
    _batch(items[middle:])
