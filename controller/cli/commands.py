"""The command line: validate, plan, apply, show, run, sandbox, schema.

Dry run is not a flag threaded through the executor: `plan` computes and prints the changes
and stops; `apply` continues into the executor. Exit codes follow Terraform: 0 success / no
changes, 1 error, 2 changes present (`--detailed-exitcode`), 3 changes blocked by a guard.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
from rich.console import Console

from controller import __version__
from controller.cli.lock import lock, lock_timeout_option
from controller.cli.options import policies_option
from controller.cli.progress import TerminalProgress
from controller.cli.review import check_writable, markdown, markdown_options
from controller.collector import exit_soon
from controller.core.plan import Plan, to_json
from controller.errors import OctiTaniumError, UserError
from controller.planfile import load_plan, save_plan
from controller.reconcile import Mode, Outcome, reconcile
from controller.report import render_text
from controller.report.budget import DEFAULT_LIMIT

FORMATS = click.Choice(["text", "markdown", "json"])
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
"""soft_wrap: a message is never hard-wrapped (a command copied from a CI log stays whole)."""


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    sys.exit(code)


def _now() -> datetime:
    return datetime.now(UTC)


def _usage(exc: click.UsageError) -> NoReturn:
    exc.show()
    sys.exit(1)


class Commands(click.Group):
    """The one place errors become exit codes: an `OctiTaniumError` prints `error: ...` and
    exits with its code; a usage error exits 1 (never 2: 2 means "changes present");
    Ctrl-C exits 130."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            _usage(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _usage(exc)
        except OctiTaniumError as exc:
            fail(exc.explain(), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", code=130)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="octi-tanium")
def main() -> None:
    """Keep Tanium in sync with OpenCTI, declaratively (policies in ./desired)."""


source_option = click.option(
    "--source",
    default="opencti",
    show_default=True,
    help="`opencti` (OPENCTI_URL/OPENCTI_TOKEN) or `bundle:PATH` (a STIX 2.1 bundle).",
)


# --------------------------------------------------------------------------- validate


@main.command()
@policies_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="`github`: GitHub Actions annotations (::error file=…,line=…,col=…::…).",
)
@click.option(
    "--source",
    default=None,
    help="Also warn about policies that select nothing in this source "
    "(`opencti` or `bundle:PATH`).",
)
def validate(policies: Path, fmt: str, source: str | None) -> None:
    """Check the policies offline: every problem, with file:line:col."""
    from controller.cli.review import with_unused
    from controller.policy.annotations import format_github
    from controller.policy.validate import format_json, format_text
    from controller.policy.validate import validate as run_validate

    result = run_validate(policies)
    if source is not None and result.ok:
        result = asyncio.run(with_unused(result, source, _now()))
    if fmt == "json":
        click.echo(json.dumps(format_json(result), indent=2))
    elif fmt == "github":
        click.echo(format_github(result))
    else:
        click.echo(format_text(result))
    sys.exit(0 if result.ok else 1)


# --------------------------------------------------------------------------- plan / show


def _emit(plan: Plan, fmt: str, md: tuple[str | None, int, str | None] = (None, 0, None)) -> None:
    """`md`: the Markdown options (`--title`, `--max-chars`, `--artifact`)."""
    if fmt == "json":
        click.echo(to_json(plan), nl=False)
    elif fmt == "markdown":
        click.echo(markdown(plan, md[0], md[1] or DEFAULT_LIMIT, md[2]))
    else:
        console().print(render_text(plan))


@main.command()
@policies_option
@source_option
@click.option("--out", type=click.Path(path_type=Path), help="Save the plan (JSON) for `apply`.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 no changes, 2 changes, 3 changes blocked by a safety guard.",
)
@click.option(
    "--actual",
    default="tanium",
    show_default=True,
    help="`tanium` (read it live, TANIUM_*) or `snapshot:FILE` (from `octi-tanium snapshot`: "
    "no Tanium credential needed).",
)
@markdown_options
def plan(
    policies: Path,
    source: str,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    actual: str,
    title: str | None,
    max_chars: int,
    artifact: str | None,
) -> None:
    """Compute what apply would change, and show it. Changes nothing."""
    check_writable(out)
    made = _pass(policies, source, mode="plan", actual_from=actual)
    if out is not None:
        save_plan(made.plan, out)
        err_console.print(f"Plan saved to {out}; apply it with `octi-tanium apply {out}`.")
    _emit(made.plan, fmt, (title, max_chars, artifact))
    sys.exit(made.exit_code if detailed_exitcode else 0)


@main.command()
@click.argument("plan_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@markdown_options
def show(
    plan_file: Path, fmt: str, title: str | None, max_chars: int, artifact: str | None
) -> None:
    """Render a saved plan."""
    _emit(load_plan(plan_file), fmt, (title, max_chars, artifact))


# --------------------------------------------------------------------------- apply / run


@main.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@policies_option
@source_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@lock_timeout_option
def apply(
    plan_file: Path | None, policies: Path, source: str, auto_approve: bool, lock_timeout: float
) -> None:
    """Apply a saved plan, or plan and apply now (asks first unless --auto-approve)."""
    from controller.cli.prompt import confirmed
    from controller.reconcile import load_checked
    from controller.report.apply import render_apply_report
    from controller.run.leader import Leadership, check_state_dir

    def show_plan(plan: Plan) -> None:
        console().print(render_text(plan))

    def confirm(plan: Plan) -> None:
        if auto_approve:
            return
        if not sys.stdin.isatty():
            raise UserError(
                "refusing to apply without confirmation in a non-interactive session: "
                "pass --auto-approve, or save a plan with `plan --out` and apply that"
            )
        if not confirmed(plan):
            raise UserError("apply cancelled")

    saved = load_plan(plan_file) if plan_file is not None else None
    check_state_dir()
    if saved is not None:
        source_name = saved.inputs.source_name
    else:
        source_name = load_checked(policies).policies.settings.source
    leadership = Leadership(lock_timeout)
    made = _pass(
        policies,
        source,
        mode="apply",
        saved=saved,
        on_plan=show_plan,
        approve=confirm,
        lock=lambda: leadership.held(source_name),
        fence=leadership,
    )
    if made.report is not None:
        console().print(render_apply_report(made.report))
    sys.exit(made.exit_code)


@main.command()
@click.option("--once", is_flag=True, help="One reconcile pass, then exit.")
@click.option(
    "--listen",
    default="127.0.0.1:9464",
    show_default=True,
    help="HOST:PORT for /metrics, /healthz and /readyz.",
)
@policies_option
@source_option
@lock_timeout_option
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help="One line per record; default json when stderr is not a terminal, else text.",
)
@click.option(
    "--unready-after",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="/readyz turns unready after this many failed passes in a row.",
)
def run(
    once: bool,
    listen: str,
    policies: Path,
    source: str,
    lock_timeout: float,
    log_format: Literal["json", "text"] | None,
    unready_after: int,
) -> None:
    """The reconciler: passes on Settings.spec.schedule under the writer lease."""
    from controller.cli.runner import start
    from controller.run import logging_to_stderr
    from controller.run.requests import count_requests

    count_requests()
    with logging_to_stderr(log_format):
        code = start(
            once=once,
            listen=listen,
            policies=policies,
            source=source,
            lock_timeout=lock_timeout,
            unready_after=unready_after,
            progress=TerminalProgress() if sys.stderr.isatty() else None,
        )
    sys.exit(code)


# --------------------------------------------------------------------------- sandbox / schema


@main.command()
@click.option("--tanium-port", type=int, default=8411, show_default=True)
@click.option("--opencti-port", type=int, default=8412, show_default=True)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
def sandbox(tanium_port: int, opencti_port: int, seed: str) -> None:
    """Serve the Tanium and OpenCTI emulators on 127.0.0.1 (Ctrl-C to stop).

    The emulators are a package of their own (`octi_sandbox`, the `sandbox` extra) that the
    product never imports: this runs `python -m octi_sandbox` as a child process, passing its
    output through and forwarding signals to it.
    """
    import importlib.util

    if importlib.util.find_spec("octi_sandbox") is None:
        # `\\[` escapes rich markup: the user sees octi-tanium[sandbox]
        fail("the emulators are not installed: pip install 'octi-tanium\\[sandbox]'")
    args = ["--tanium-port", str(tanium_port), "--opencti-port", str(opencti_port)]
    sys.exit(_run_child([sys.executable, "-m", "octi_sandbox", *args, "--seed", seed]))


def _run_child(argv: list[str]) -> int:
    """Run `argv` with this process's stdio, forwarding INT, TERM and HUP to it (the child
    also stops if this process dies); its exit code, 128 + N when signal N ended it."""
    import os
    import signal
    import subprocess

    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child is None:
            pending.append(signum)
        else:
            child.send_signal(signum)

    # Installed before the child starts, so it inherits default dispositions, not ignored ones.
    forwarded = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        child = subprocess.Popen([*argv, "--exit-with-parent", str(os.getpid())])
        for signum in pending:
            child.send_signal(signum)
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


@main.command()
@click.option("--check", is_flag=True, help="Fail when a file in schemas/ is stale.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("schemas"), show_default=True)
def schema(check: bool, out: Path) -> None:
    """(Re)generate the JSON Schemas in schemas/ from the models."""
    from controller.schemas import write_all

    stale = write_all(out, check=check)
    if check and stale:
        fail(f"stale schema(s): {', '.join(stale)} — run `octi-tanium schema` and commit")
    click.echo("schemas are up to date" if check else f"wrote schemas to {out}/")


main.add_command(lock)

# --------------------------------------------------------------------------- plumbing


@dataclass(frozen=True)
class Process:
    """What the console script (`controller.cli.entry`) tells the commands about the process
    (click's `ctx.obj`; absent when a test invokes `main` in-process)."""

    exits_after_command: bool = False
    """The process ends when the command returns (`entry`, not a test's `CliRunner`)."""


def _pass(policies: Path, source: str, *, mode: Mode, **options: Any) -> Outcome:
    """One pass of the driver, its progress on the terminal. A process that exits after it
    keeps the collector off what the pass builds (`controller.collector.exit_soon`)."""
    context = click.get_current_context(silent=True)
    process = context.find_object(Process) if context is not None else None
    if process is not None and process.exits_after_command:
        exit_soon()
    return asyncio.run(
        reconcile(policies, source, mode=mode, now=_now(), progress=TerminalProgress(), **options)
    )


from controller.cli.pr import pr_comment  # noqa: E402

main.add_command(pr_comment)

from controller.cli.inventory import snapshot, state  # noqa: E402

main.add_command(snapshot)
main.add_command(state)

from controller.cli.doctor import doctor  # noqa: E402 - registered after `main` exists

main.add_command(doctor)
