"""Load `desired/**/*.yaml` into validated models, keeping file:line:col for every error.

ruamel.yaml's round-trip loader remembers where each key and value sits; pydantic's error
locations are walked back through the YAML tree to point at the exact spot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from controller.diagnostics import Diagnostic, Position
from controller.policy.models import (
    KINDS,
    Document,
    Exclusion,
    IntelPolicy,
    Settings,
    SettingsSpec,
    StaticIntel,
)

_DOCUMENT: TypeAdapter[IntelPolicy | StaticIntel | Exclusion | Settings] = TypeAdapter(Document)


@dataclass(frozen=True)
class Located:
    """A validated document and where it came from."""

    document: IntelPolicy | StaticIntel | Exclusion | Settings
    position: Position
    content: str | None = None
    """For StaticIntel: the resolved content (inline or read from `file`)."""


@dataclass(frozen=True)
class PolicySet:
    intel_policies: tuple[Located, ...] = ()
    static_intel: tuple[Located, ...] = ()
    exclusions: tuple[Located, ...] = ()
    settings: SettingsSpec = field(default_factory=SettingsSpec)
    revision: str = ""
    """A digest of every policy file's bytes: the plan's policy fingerprint."""

    @property
    def settings_name(self) -> str:
        return self.settings.source


@dataclass(frozen=True)
class LoadResult:
    policies: PolicySet
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def policy_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_policies(root: Path) -> LoadResult:
    """Read every policy file under `root`; report every problem, not only the first."""
    diagnostics: list[Diagnostic] = []
    located: list[Located] = []
    files = policy_files(root)
    digest = hashlib.sha256()
    if not root.exists():
        diagnostics.append(
            Diagnostic.error(
                f"policy directory {root} does not exist",
                detail="create it with at least one policy, or pass --policies DIR",
            )
        )
    for path in files:
        raw = path.read_bytes()
        digest.update(path.as_posix().encode() + b"\0" + raw + b"\0")
        located.extend(_load_file(path, raw.decode("utf-8", errors="replace"), diagnostics))
    policy_set = _assemble(located, diagnostics)
    policy_set = PolicySet(
        intel_policies=policy_set.intel_policies,
        static_intel=policy_set.static_intel,
        exclusions=policy_set.exclusions,
        settings=policy_set.settings,
        revision=digest.hexdigest()[:16],
    )
    return LoadResult(policy_set, tuple(diagnostics), tuple(files))


def _load_file(path: Path, text: str, diagnostics: list[Diagnostic]) -> Iterable[Located]:
    yaml = YAML(typ="rt")
    lines = text.splitlines()
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(str(path), (mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1)
        diagnostics.append(
            Diagnostic.error(
                f"invalid YAML: {exc.problem or exc.context}",
                position=pos,
                snippet=_snippet(lines, pos),
            )
        )
        return []
    result: list[Located] = []
    for index, raw in enumerate(documents):
        if raw is None:
            continue
        if not isinstance(raw, CommentedMap):
            pos = _node_position(path, raw) or Position(str(path), 1, 1)
            diagnostics.append(
                Diagnostic.error(
                    f"document {index + 1} is not a mapping",
                    position=pos,
                    detail="each document needs apiVersion, kind, metadata and spec",
                    snippet=_snippet(lines, pos),
                )
            )
            continue
        start = Position(str(path), raw.lc.line + 1, raw.lc.col + 1)
        kind = raw.get("kind")
        if kind not in KINDS:
            pos = _key_position(path, raw, "kind", value=True) or start
            from controller.diagnostics import did_you_mean

            hint = did_you_mean(str(kind), KINDS)
            diagnostics.append(
                Diagnostic.error(
                    f"unknown kind {kind!r} (expected one of: {', '.join(KINDS)}){hint}",
                    position=pos,
                    snippet=_snippet(lines, pos),
                )
            )
            continue
        try:
            document = _DOCUMENT.validate_python(_plain(raw))
        except ValidationError as exc:
            name = _name_of(raw)
            for error in exc.errors():
                diagnostics.append(_validation_diagnostic(path, raw, lines, error, kind, name, start))
            continue
        content: str | None = None
        if isinstance(document, StaticIntel):
            content = _static_content(path, raw, lines, document, diagnostics)
            if content is None and document.spec.type != "hashes":
                continue
        result.append(Located(document, start, content))
    return result


def _static_content(
    path: Path, raw: CommentedMap, lines: list[str], doc: StaticIntel,
    diagnostics: list[Diagnostic],
) -> str | None:
    spec = doc.spec
    if spec.content is not None:
        return spec.content
    if spec.file is None:
        return None
    target = (path.parent / spec.file).resolve()
    try:
        return target.read_text(encoding="utf-8")
    except OSError as exc:
        node = raw.get("spec")
        pos = (
            _key_position(path, node, "file", value=True) if isinstance(node, CommentedMap) else None
        ) or Position(str(path), raw.lc.line + 1, 1)
        diagnostics.append(
            Diagnostic.error(
                f"StaticIntel '{doc.metadata.name}': cannot read {spec.file}: {exc.strerror}",
                position=pos,
                detail="the path is relative to the policy file",
                snippet=_snippet(lines, pos),
            )
        )
        return None


def _assemble(located: Sequence[Located], diagnostics: list[Diagnostic]) -> PolicySet:
    seen: dict[tuple[str, str], Located] = {}
    by_kind: dict[str, list[Located]] = {k: [] for k in KINDS}
    for item in located:
        doc = item.document
        ident = (doc.kind, doc.metadata.name)
        if ident in seen:
            first = seen[ident].position
            diagnostics.append(
                Diagnostic.error(
                    f"duplicate {doc.kind} name '{doc.metadata.name}' "
                    f"(first defined at {first})",
                    position=item.position,
                    detail="names must be unique per kind across all policy files",
                )
            )
            continue
        seen[ident] = item
        by_kind[doc.kind].append(item)
    settings_docs = by_kind["Settings"]
    if len(settings_docs) > 1:
        for extra in settings_docs[1:]:
            diagnostics.append(
                Diagnostic.error(
                    f"more than one Settings document (first at {settings_docs[0].position})",
                    position=extra.position,
                    detail="keep a single Settings document",
                )
            )
    settings = SettingsSpec()
    if settings_docs:
        first_settings = settings_docs[0].document
        assert isinstance(first_settings, Settings)
        settings = first_settings.spec
    return PolicySet(
        intel_policies=tuple(by_kind["IntelPolicy"]),
        static_intel=tuple(by_kind["StaticIntel"]),
        exclusions=tuple(by_kind["Exclusion"]),
        settings=settings,
    )


# --------------------------------------------------------------------------- positions


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _name_of(raw: CommentedMap) -> str | None:
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        name = meta.get("name")
        return str(name) if name is not None else None
    return None


def _node_position(path: Path, node: Any) -> Position | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    return Position(str(path), lc.line + 1, lc.col + 1)


def _key_position(path: Path, node: CommentedMap, key: str, *, value: bool) -> Position | None:
    try:
        line, col = node.lc.value(key) if value else node.lc.key(key)
    except (KeyError, TypeError):
        return None
    return Position(str(path), line + 1, col + 1)


def _locate(
    path: Path, root: CommentedMap, loc: Sequence[int | str], *, key_error: bool
) -> Position | None:
    """Follow a pydantic error location through the YAML tree to a position."""
    node: Any = root
    best = _node_position(path, root)
    parts = list(loc)
    if parts and parts[0] in KINDS:
        parts = parts[1:]  # discriminated-union tag
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
            here = _key_position(path, node, part, value=not (last and key_error))
            best = here or best
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            try:
                line, col = node.lc.item(part)
                best = Position(str(path), line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            node = node[part]
        else:
            break
    return best


def _validation_diagnostic(
    path: Path, raw: CommentedMap, lines: list[str], error: Any, kind: str,
    name: str | None, start: Position,
) -> Diagnostic:
    from controller.diagnostics import did_you_mean, known_keys_at

    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind_loc = loc[1:] if loc and loc[0] in KINDS else loc
    dotted = ".".join(str(p) for p in kind_loc)
    key_error = error["type"] == "extra_forbidden"
    pos = _locate(path, raw, loc, key_error=key_error) or start
    subject = f"{kind} '{name}'" if name else kind
    message = str(error["msg"])
    if key_error:
        bad = str(kind_loc[-1])
        known = known_keys_at(kind, kind_loc[:-1])
        message = f"unknown key '{bad}'" + did_you_mean(bad, known)
        if known:
            message += f" (allowed here: {', '.join(known)})"
    elif error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        got = error.get("input")
        options = [o.strip().strip("'") for o in str(expected).replace(" or ", ", ").split(",")]
        message = f"{got!r} is not allowed (expected one of: {expected})" + did_you_mean(
            str(got), options
        )
    elif error["type"] == "missing":
        message = "required key is missing"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    where = f" at {dotted}" if dotted else ""
    return Diagnostic.error(
        f"{subject}{where}: {message}",
        position=pos,
        snippet=_snippet(lines, pos),
        address=dotted or None,
    )


def _snippet(lines: list[str], pos: Position) -> str:
    if not 0 < pos.line <= len(lines):
        return ""
    text = lines[pos.line - 1]
    return f"{pos.line:>4} | {text}\n     | {' ' * (pos.col - 1)}^"
