"""Load `desired/**/*.yaml` into validated models, keeping file:line:col for every problem.

ruamel.yaml's round-trip loader remembers where each key and value sits; pydantic's error
locations and the semantic checks' paths are walked back through the YAML tree to point at
the exact spot. One run reports every problem: all files, all documents, all errors of a
document (a YAML syntax error spoils only the document it is in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml.comments import CommentedMap

from controller.core.diagnostics import Diagnostic, Position, Severity, did_you_mean
from controller.policy import yamlpos
from controller.policy.bounds import file_too_large
from controller.policy.checks import Finding, Loc, check_document, check_set
from controller.policy.errors import explain
from controller.policy.located import Located, PolicySet
from controller.policy.models import (
    KINDS,
    Document,
    Exclusion,
    IntelPolicy,
    Settings,
    SettingsSpec,
    StaticIntel,
)
from controller.policy.static import check_static, read_static

_DOCUMENT: TypeAdapter[IntelPolicy | StaticIntel | Exclusion | Settings] = TypeAdapter(Document)


@dataclass(frozen=True)
class LoadResult:
    policies: PolicySet
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def policy_files(root: Path) -> list[Path]:
    """`*.yaml` / `*.yml` under `root` (hidden folders skipped), in a stable order."""
    if root.is_file():
        return [root]
    return sorted(
        (
            p
            for p in root.rglob("*")
            if p.suffix in (".yaml", ".yml")
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        ),
        key=lambda p: p.as_posix(),
    )


def load_policies(root: Path) -> LoadResult:
    """Read every policy file under `root`; report every problem, not only the first.

    Syntax, types, unknown keys, conflicting selectors, invalid static intel and conflicts
    between documents are all reported here. Never act on a result that is not `ok`.
    """
    diagnostics: list[Diagnostic] = []
    entries: list[_Entry] = []
    files = policy_files(root) if root.exists() else []
    digest = hashlib.sha256()
    if not root.exists():
        diagnostics.append(
            Diagnostic.error(
                f"policy directory {root} does not exist",
                detail="create it with at least one policy, or pass --policies DIR",
            )
        )
    elif not files:
        diagnostics.append(
            Diagnostic.warning(f"no policy files (*.yaml, *.yml) under {root}: nothing is desired")
        )
    base = root if root.is_dir() else root.parent
    for path in files:
        too_large = file_too_large(path, path.stat().st_size)
        if too_large:  # not even read
            diagnostics.append(Diagnostic.error(too_large, position=Position(str(path), 1, 1)))
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            diagnostics.append(
                Diagnostic.error(
                    f"cannot read {path}: {exc.strerror or exc}", position=Position(str(path), 1, 1)
                )
            )
            continue
        # The revision names each file relative to the policies root: the same policies give
        # the same revision wherever they are checked out (a laptop, CI, a container).
        relative = path.relative_to(base) if path.is_relative_to(base) else path
        digest.update(relative.as_posix().encode() + b"\0" + raw + b"\0")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            diagnostics.append(
                Diagnostic.error(
                    f"not UTF-8 text (byte {exc.start})", position=Position(str(path), line, 1)
                )
            )
            continue
        source = _Source(path, text.splitlines(), base)
        entries.extend(source.load(text, diagnostics))
    policy_set = _assemble(entries, diagnostics)
    diagnostics.sort(key=sort_key)
    return LoadResult(
        PolicySet(
            intel_policies=policy_set.intel_policies,
            static_intel=policy_set.static_intel,
            exclusions=policy_set.exclusions,
            settings=policy_set.settings,
            revision=digest.hexdigest()[:16],
        ),
        tuple(diagnostics),
        tuple(files),
    )


def sort_key(d: Diagnostic) -> tuple[str, int, int]:
    return (d.file or "", d.line or 0, d.col or 0)


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class _Entry:
    located: Located
    node: CommentedMap
    source: _Source


@dataclass(frozen=True)
class _Source:
    path: Path
    lines: list[str]
    base: Path

    def diagnostic(
        self,
        node: Any,
        severity: Severity,
        message: str,
        loc: Loc,
        *,
        key: bool = False,
        detail: str = "",
        exact: Position | None = None,
    ) -> Diagnostic:
        pos = exact or yamlpos.locate(self.path, node, loc, key=key)
        dotted = ".".join(str(p) for p in loc)
        return Diagnostic.make(
            severity,
            message,
            position=pos,
            detail=detail,
            snippet=yamlpos.snippet(self.lines, pos),
            address=dotted or None,
        )

    def finding(self, node: Any, subject: str, finding: Finding) -> Diagnostic:
        return self.diagnostic(
            node,
            finding.severity,
            f"{subject}: {finding.message}",
            finding.at,
            key=finding.key,
            detail=finding.detail,
        )

    def load(self, text: str, diagnostics: list[Diagnostic]) -> Iterable[_Entry]:
        result: list[_Entry] = []
        for number, raw in enumerate(yamlpos.documents(self.path, text), start=1):
            if raw.error is not None:
                diagnostics.append(
                    Diagnostic.error(
                        f"invalid YAML: {raw.problem}",
                        position=raw.error,
                        detail="the rest of this document is skipped",
                        snippet=yamlpos.snippet(self.lines, raw.error),
                    )
                )
                continue
            entry = self._document(number, raw.node, raw.line, diagnostics)
            if entry is not None:
                result.append(entry)
        return result

    def _document(
        self, number: int, node: Any, line: int, diagnostics: list[Diagnostic]
    ) -> _Entry | None:
        if not isinstance(node, CommentedMap):
            pos = yamlpos.node_position(self.path, node) or Position(str(self.path), line, 1)
            diagnostics.append(
                self.diagnostic(
                    node,
                    "error",
                    f"document {number} is not a mapping",
                    (),
                    exact=pos,
                    detail="each document needs apiVersion, kind, metadata and spec",
                )
            )
            return None
        start = yamlpos.node_position(self.path, node) or Position(str(self.path), 1, 1)
        kind = node.get("kind")
        if kind not in KINDS:
            if "kind" not in node:
                message = f"missing required key 'kind' (one of: {', '.join(KINDS)})"
            else:
                message = f"unknown kind {kind!r} (expected one of: {', '.join(KINDS)})"
                message += did_you_mean(str(kind), KINDS)
            diagnostics.append(
                self.diagnostic(
                    node,
                    "error",
                    message,
                    ("kind",) if "kind" in node else (),
                    exact=None if "kind" in node else start,
                )
            )
            return None
        name = _name_of(node)
        subject = f"{kind} '{name}'" if name else str(kind)
        try:
            document = _DOCUMENT.validate_python(yamlpos.plain(node))
        except ValidationError as exc:
            for error in exc.errors():
                said = explain(error, str(kind))
                dotted = ".".join(str(p) for p in said.loc)
                where = f" at {dotted}" if dotted else ""
                exact = None
                if said.point is not None:
                    exact = yamlpos.locate(self.path, node, said.point, key=True)
                diagnostics.append(
                    self.diagnostic(
                        node,
                        "error",
                        f"{subject}{where}: {said.message}",
                        said.loc,
                        key=said.key,
                        exact=exact,
                    )
                )
            return None
        for finding in check_document(document):
            diagnostics.append(self.finding(node, subject, finding))
        content: str | None = None
        if isinstance(document, StaticIntel):
            spec = document.spec
            content = spec.content
            if spec.file is not None:
                read = read_static(self.path, self.base, spec.file)
                if read.content is None:
                    diagnostics.append(
                        self.diagnostic(
                            node,
                            "error",
                            f"{subject}: {read.problem}",
                            ("spec", "file"),
                            detail=read.detail,
                        )
                    )
                    return None
                content = read.content
            if content is not None:
                for finding in check_static(document, content):
                    diagnostics.append(self.finding(node, subject, finding))
        return _Entry(Located(document, start, content), node, self)

    def where(self, node: Any, loc: Loc) -> Position:
        return yamlpos.locate(self.path, node, loc)


def _name_of(raw: CommentedMap) -> str | None:
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        name = meta.get("name")
        return str(name) if name is not None else None
    return None


# --------------------------------------------------------------------------- all files


def _assemble(entries: Sequence[_Entry], diagnostics: list[Diagnostic]) -> PolicySet:
    by_located = {id(e.located): e for e in entries}

    def where(item: Located, loc: Loc) -> Position:
        entry = by_located[id(item)]
        return entry.source.where(entry.node, loc)

    seen: dict[tuple[str, str], _Entry] = {}
    kept: list[_Entry] = []
    name_loc: Loc = ("metadata", "name")
    for entry in entries:
        doc = entry.located.document
        ident = (doc.kind, doc.metadata.name)
        first = seen.setdefault(ident, entry)
        if first is not entry:
            diagnostics.append(
                entry.source.diagnostic(
                    entry.node,
                    "error",
                    f"duplicate {doc.kind} name '{doc.metadata.name}': also defined at "
                    f"{where(first.located, name_loc)}",
                    name_loc,
                    detail="names must be unique per kind across all policy files",
                )
            )
            continue
        kept.append(entry)
    settings = [e for e in kept if isinstance(e.located.document, Settings)]
    for extra in settings[1:]:
        first_doc = settings[0].located.document
        diagnostics.append(
            extra.source.diagnostic(
                extra.node,
                "error",
                f"a second Settings document ('{extra.located.document.metadata.name}'); the "
                f"first is '{first_doc.metadata.name}' at {where(settings[0].located, ('kind',))}",
                ("kind",),
                detail="keep a single Settings document",
            )
        )
    for item, finding in check_set([e.located for e in kept], where):
        entry = by_located[id(item)]
        doc = item.document
        diagnostics.append(
            entry.source.finding(entry.node, f"{doc.kind} '{doc.metadata.name}'", finding)
        )
    spec = SettingsSpec()
    if settings:
        first_settings = settings[0].located.document
        assert isinstance(first_settings, Settings)
        spec = first_settings.spec

    def of(kind: type[Any]) -> tuple[Located, ...]:
        return tuple(e.located for e in kept if isinstance(e.located.document, kind))

    return PolicySet(
        intel_policies=of(IntelPolicy),
        static_intel=of(StaticIntel),
        exclusions=of(Exclusion),
        settings=spec,
    )
