"""Shared fixtures: the corpus, and the hermetic environment every test runs in.

The suite never reads or writes the operator's state: every test gets its own
`OCTI_TANIUM_STATE_DIR` (and `XDG_STATE_HOME`, `HOME`) in a temporary directory, connection
settings of the operator's shell are not inherited, and the session fails if a test left a
file in the working directory.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"

# Hypothesis keeps no example database in the working directory, nor its other files (the
# constants it collects from the code under test, Unicode tables): they go to a temporary
# folder.
settings.register_profile("hermetic", database=None)
settings.load_profile("hermetic")
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="octi-tanium-hypothesis-"))

# Variables of the operator's shell that would point a test at real servers or real state.
OPERATOR_VARIABLES = (
    "TANIUM_URL",
    "TANIUM_TOKEN",
    "TANIUM_TOKEN_FILE",
    "TANIUM_CA_BUNDLE",
    "TANIUM_VERIFY_TLS",
    "TANIUM_CONSOLE_URL",
    "OPENCTI_URL",
    "OPENCTI_TOKEN",
    "OPENCTI_TOKEN_FILE",
    "OPENCTI_STREAM_ID",
    "OCTI_TANIUM_LOCK_URL",
    "OCTI_TANIUM_LOCK_TTL",
    "OCTI_TANIUM_POLICIES",
    "OCTI_TANIUM_INCREMENTAL",
    "OCTI_TANIUM_FULL_EVERY",
    "OCTI_TANIUM_INCREMENTAL_OVERLAP",
    "GITHUB_TOKEN",
    "GITHUB_TOKEN_FILE",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GITHUB_EVENT_PATH",
)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is missing at {CORPUS}: restore tests/corpus from git")
    return CORPUS


@pytest.fixture(autouse=True)
def hermetic_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private state directory and home for each test; the operator's are never touched."""
    home = tmp_path_factory.mktemp("home")
    state = home / "state"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OCTI_TANIUM_STATE_DIR", str(state))
        patch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
        patch.setenv("HOME", str(home))
        for name in OPERATOR_VARIABLES:
            patch.delenv(name, raising=False)
        yield state


def _untracked(root: Path) -> set[str] | None:
    """Files git does not know and does not ignore, or None without git."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--ignored=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {line[3:] for line in out.splitlines() if line.startswith("??")}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = (_untracked(Path.cwd()), _listing(Path.cwd()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before_git, before_listing = session.config.stash.get(_BEFORE, (None, set()))
    after_git = _untracked(Path.cwd())
    new = sorted(
        (after_git - before_git)
        if after_git is not None and before_git is not None
        else _listing(Path.cwd()) - before_listing
    )
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the suite wrote into the working directory: {', '.join(new[:10])}"
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)


def _listing(root: Path) -> set[str]:
    """Top-level names of the working directory (the fallback without git)."""
    return {entry.name for entry in os.scandir(root) if entry.name != "__pycache__"}


_BEFORE = pytest.StashKey[tuple[set[str] | None, set[str]]]()
