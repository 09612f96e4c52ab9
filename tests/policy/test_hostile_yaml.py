"""Untrusted policy files are safe to check: aliases, over-deep nesting, oversized files and
files of too many documents fail fast with a clear error at their position (the bounds of
`controller.policy.bounds`), hypothesis-generated hostile YAML included."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.policy.bounds import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES
from controller.policy.validate import validate

HEAD = "apiVersion: octi-tanium/v1\nkind: IntelPolicy\nmetadata:\n  name: x\nspec:\n"
TARGET = "  target:\n    intel: {}\n"
HYPOTHESIS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def errors(path: Path) -> list[str]:
    result = validate(path)
    return [d.text() for d in result.diagnostics if d.severity == "error"]


def laughs(levels: int, width: int) -> str:
    lines = [f"    l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"    l{level}: &l{level} [{refs}]")
    return HEAD + "  select:\n" + "\n".join(lines) + "\n" + TARGET


@HYPOTHESIS
@given(levels=st.integers(2, 9), width=st.integers(2, 10))
def test_a_billion_laughs_is_refused_at_its_first_alias(
    tmp_path: Path, levels: int, width: int
) -> None:
    policy = tmp_path / "laughs.yaml"
    policy.write_text(laughs(levels, width))
    [error] = errors(policy)
    assert f"{policy}:8:" in error
    assert "YAML alias *l0 is not allowed" in error


@HYPOTHESIS
@given(depth=st.integers(MAX_DEPTH + 1, 400), flow=st.booleans())
def test_nesting_deeper_than_the_bound_is_refused(tmp_path: Path, depth: int, flow: bool) -> None:
    policy = tmp_path / "deep.yaml"
    if flow:
        value = "[" * depth + "]" * depth
    else:
        value = (
            "\n"
            + "".join(f"{'  ' * (i + 2)}k{i}:\n" for i in range(depth))
            + "  " * (depth + 2)
            + "x"
        )
    policy.write_text(HEAD + f"  select: {value}\n" + TARGET)
    found = errors(policy)
    assert any(f"nested deeper than {MAX_DEPTH} levels" in e for e in found), found


def test_nesting_within_the_bound_and_anchors_without_aliases_are_fine(tmp_path: Path) -> None:
    policy = tmp_path / "ok.yaml"
    policy.write_text(HEAD + "  select: &sel\n    minScore: 50\n" + TARGET)
    assert errors(policy) == []


def test_too_many_documents_are_refused_once(tmp_path: Path) -> None:
    policy = tmp_path / "many.yaml"
    policy.write_text("---\nx: 1\n" * (MAX_DOCUMENTS + 50))
    found = [e for e in errors(policy) if "documents in one file" in e]
    assert len(found) == 1 and f"{policy}:" in found[0]


def test_an_oversized_file_is_not_parsed(tmp_path: Path) -> None:
    policy = tmp_path / "huge.yaml"
    policy.write_text(HEAD + "#" * (MAX_FILE_BYTES + 1) + "\n")
    [error] = errors(policy)
    assert f"a policy file may hold at most {MAX_FILE_BYTES:,}" in error


@HYPOTHESIS
@given(text=st.text(alphabet=st.sampled_from("[]{}&*:-, \nab'\"!|>"), max_size=400))
def test_any_garbage_gives_diagnostics_never_an_exception(tmp_path: Path, text: str) -> None:
    policy = tmp_path / "garbage.yaml"
    policy.write_text(text)
    validate(policy)
