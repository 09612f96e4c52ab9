"""`make demo`: the sandbox, then validate → plan → apply → plan (no changes), narrated.

Runs the real command line against the emulators over real HTTP, exactly as a user would.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.rule import Rule

from controller.cli import demo_live
from controller.cli.demo_loop import inject_alerts, show_opencti

ROOT = Path(__file__).resolve().parents[2]
console = Console(highlight=False)


def start_sandbox(seed: str = "demo") -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`octi-tanium sandbox` on free ports in a child process, and the lines it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "sandbox", "--seed", seed,
         "--tanium-port", "0", "--opencti-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    env: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(env) < 4:
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise SystemExit("error: the sandbox did not start (see `octi-tanium sandbox`)")
        if "=" in line and not line.startswith("#"):
            key, _, value = line.strip().partition("=")
            env[key] = value
    return proc, env


def step(title: str, args: list[str], env: dict[str, str], expect: tuple[int, ...]) -> int:
    console.print(Rule(f"[bold]{title}"))
    console.print(f"[bold cyan]$ octi-tanium {shlex.join(args)}[/]")
    code = subprocess.call([sys.executable, "-m", "controller", *args], env=env, cwd=ROOT)
    console.print(f"[dim](exit code {code})[/]\n")
    if code not in expect:
        raise SystemExit(
            f"error: `octi-tanium {shlex.join(args)}` exited {code}, expected {expect}"
        )
    return code


def day_two(env: dict[str, str], plan_file: Path) -> str:
    """Life happens: an analyst revokes an indicator in OpenCTI, and somebody removes a label
    from one of our documents by hand in the Tanium console."""
    plan = json.loads(plan_file.read_text())
    revoked = next(
        i for i in plan["items"] if i["kind"] == "intel" and i["key"].startswith("indicator--")
    )
    httpx.post(
        f"{env['OPENCTI_URL']}/__sandbox/objects",
        json={"op": "revoke", "id": revoked["key"]},
        timeout=10,
    ).raise_for_status()
    console.print(f"  OpenCTI: an analyst revokes [bold]{revoked['name']}[/]")
    state = httpx.get(f"{env['TANIUM_URL']}/__sandbox/state", timeout=10).json()
    ours = {s["id"] for s in state["sources"] if s["name"] == "OpenCTI (octi-tanium)"}
    doc = next(
        d
        for d in state["intels"]
        if d["sourceId"] in ours and d["labelIds"] and d["name"] != revoked["name"]
    )
    label = next(lb for lb in state["labels"] if lb["id"] == doc["labelIds"][0])
    httpx.delete(
        f"{env['TANIUM_URL']}/plugin/products/threat-response/api/v1/intels/{doc['id']}"
        f"/labels/{label['id']}",
        headers={"session": env["TANIUM_TOKEN"]},
        timeout=10,
    ).raise_for_status()
    console.print(
        f"  Tanium: someone removes label [bold]{label['name']}[/] from [bold]{doc['name']}[/] "
        "in the console\n"
    )
    return str(revoked["name"])


def main() -> None:
    started = time.monotonic()
    console.print(Rule("[bold]octi-tanium demo: OpenCTI → Tanium, declaratively"))
    console.print("$ octi-tanium sandbox --seed demo   (Tanium + OpenCTI emulators on 127.0.0.1)")
    proc, sandbox_env = start_sandbox()
    for key, value in sandbox_env.items():
        shown = value if "TOKEN" not in key else value[:10] + "…"
        console.print(f"  {key}={shown}")
    with tempfile.TemporaryDirectory(prefix="octi-tanium-demo-") as tmp:
        # The demo's lock and state live with the demo: never the operator's.
        env = {
            **os.environ,
            **sandbox_env,
            "COLUMNS": os.environ.get("COLUMNS", "110"),
            "OCTI_TANIUM_STATE_DIR": str(Path(tmp) / "state"),
        }
        plan_file = Path(tmp) / "plan.json"
        try:
            step("1. validate the policies in desired/", ["validate"], env, (0,))
            step(
                "2. plan: what would change in Tanium? (saved for review)",
                ["plan", "--out", str(plan_file), "--detailed-exitcode"],
                env,
                (2,),
            )
            step("3. apply the reviewed plan", ["apply", str(plan_file)], env, (0,))
            step("4. plan again: Tanium has converged", ["plan", "--detailed-exitcode"], env, (0,))
            console.print(Rule("[bold]5. day two"))
            revoked = day_two(sandbox_env, plan_file)
            doc_id = inject_alerts(sandbox_env, console, avoid=revoked)
            step(
                "6. the next reconcile pass repairs exactly that, and reports the alerts",
                ["run", "--once"],
                env,
                (0,),
            )
            console.print(Rule("[bold]7. in OpenCTI: the pivot to Tanium, and the sightings"))
            show_opencti(sandbox_env, doc_id, console)
            step("8. plan: in sync again", ["plan", "--detailed-exitcode"], env, (0,))
            demo_live.live(env, "9. real time: run follows OpenCTI's live stream")
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    console.print(Rule(f"[bold green]demo complete in {time.monotonic() - started:.1f} s"))


if __name__ == "__main__":
    main()
