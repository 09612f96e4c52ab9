"""The example GitHub Actions workflows are valid YAML and call only commands and options
that exist (a renamed option would otherwise break every user's CI silently)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from ruamel.yaml import YAML

from controller.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "github-actions"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))


def invocations(workflow: Path) -> list[list[str]]:
    data = YAML(typ="safe").load(workflow.read_text(encoding="utf-8"))
    found = []
    for job in data["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for line in script.splitlines():
                if line.strip().startswith("octi-tanium "):  # a command, not a message
                    text = re.sub(r"\$\{\{[^}]*\}\}", "X", line.strip())
                    words = shlex.split(text, comments=True)
                    found.append(words[1 : words.index(">") if ">" in words else None])
    return found


def test_there_are_a_plan_and_an_apply_workflow() -> None:
    assert {p.name for p in WORKFLOWS} == {"plan.yml", "apply.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_octi_tanium_call_names_real_commands_and_options(workflow: Path) -> None:
    calls = invocations(workflow)
    assert calls
    for words in calls:
        command: click.Command = main
        while isinstance(command, click.Group):
            name = words.pop(0)
            command = command.commands[name]
        known = {opt for p in command.params for opt in p.opts}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in known, (workflow.name, command.name, word)
