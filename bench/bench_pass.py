"""Issue 15 benchmark: the whole pass a user waits for — `octi-tanium plan`, in a subprocess.

N desired indicators (¼ IPv4, ¼ domain, ¼ URL, ¼ SHA-256, as `bench_plan.source`) as STIX
2.1, from a bundle file (`--source bundle:PATH`) and from the OpenCTI emulator seeded in bulk
(`--source opencti`), against a Tanium emulator that holds exactly what an apply of them wrote
— N intel documents and N/4 blocklist entries, their labels, a completed deploy, and in
`OCTI_TANIUM_STATE_DIR` the write journal and the tenant's terms. Both emulators are processes
of their own and add 5 ms to every request (`/__sandbox/faults`). The setup is the controller's
own first plan against an empty Tanium: its creates are what apply would write, loaded in
bulk (`/__sandbox/seed` with ready documents) instead of one request at a time.

Measured, for each source, best and median of `--repeat` runs (every contender the same N):

- no change: `octi-tanium plan --detailed-exitcode` must exit 0 and say "No changes" (a
  benchmark of a wrong pass is worthless; the harness stops otherwise); wall time of the
  process (start-up and imports included: what a user waits for), its peak RSS (`wait4`,
  from a small launcher: `bench/measure.py`), requests to each emulator (their counters);
- where the time goes: one more pass through the same driver in a process of its own,
  timed stage by stage (`bench/pass_stages.py`);
- 1 % churn: a third of it new indicators, a third revoked, a third with labels changed;
  the plan must exit 2 with exactly the expected creates, updates and deletes;
- `--incremental` (OpenCTI source): per round, a first pass on a fresh state directory (full,
  which should leave a local snapshot in `OCTI_TANIUM_STATE_DIR`), a second pass with nothing
  changed, the churn, a third pass, the churn undone; the second must plan no change and the
  third exactly the churn, as the full passes do. Reported "not available" while a first pass
  leaves nothing new in the state directory (no incremental mode). `INCREMENTAL_ENV` and
  `SNAPSHOT_GLOB` are the hooks should the mode need a switch or leave other files.

Every full pass starts from a copy of the state directory an apply would have left (journal,
terms): a local snapshot left by an earlier pass would make it incremental. The pivot
write-back (`OCTI_TANIUM_PIVOT`) is off: its references were not seeded in OpenCTI, and its
items would be changes.

    python -m bench.bench_pass                                  # 100,000, both sources
    python -m bench.bench_pass --sizes 100000,500000 --repeat 3 --incremental   # the issue's
    python -m bench.bench_pass --quick                          # 2,000, one run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from octi_sandbox.opencti import DEFAULT_TOKEN as OPENCTI_TOKEN
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti import create_app as opencti_app
from octi_sandbox.server import serve
from octi_sandbox.tanium import DEFAULT_TOKEN as TANIUM_TOKEN
from octi_sandbox.tanium import TaniumConfig
from octi_sandbox.tanium import create_app as tanium_app
from octi_sandbox.tanium.routing import TR

from bench.measure import run_measured
from controller.core.model import DesiredBlocklist, DesiredIntel, TaniumId
from controller.reconcile import reconcile
from controller.tanium.content import content_intrinsic_id, entry_json
from controller.tanium.journal import Journal, journal_path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "desired" / "everything.yaml"
"""The policy of every pass; `main` points it at a copy beside a Settings whose deletion budget
admits the churn (`bench_policies`)."""
BENCH_SETTINGS = """apiVersion: octi-tanium/v1
kind: Settings
metadata: {name: settings}
spec:
  deletionBudget: {max: 100000000, maxPercent: 100}
"""
"""The churn deletes ⅓ of 1 %: at 500,000 that is 1,667, beyond the default budget (500), which
would block the plan (exit 3) instead of measuring it. The budget changes no work done."""


def bench_policies(tmp: Path) -> Path:
    """A policies folder: the `everything` policy and `BENCH_SETTINGS`."""
    folder = tmp / "policies"
    folder.mkdir()
    (folder / "everything.yaml").write_text(
        (ROOT / "desired" / "everything.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "settings.yaml").write_text(BENCH_SETTINGS, encoding="utf-8")
    return folder


GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
LABELS = ("emotet", "qakbot", "cobalt-strike", "ransomware", "phishing", "tanium")
PAIRS = [(a, b) for a in LABELS for b in LABELS if a < b]
UNTIL = "2099-12-31T00:00:00.000Z"
SEED_CHUNK = 5000

INCREMENTAL_ENV: dict[str, str] = {
    "OCTI_TANIUM_INCREMENTAL": "on",
    "OCTI_TANIUM_FULL_EVERY": "1000",
}
"""Set in the environment of `--incremental` passes (and only there): the controller's
incremental mode is on by default only for `run`; `plan` takes it with this switch. No full
fetch every N passes during the rounds (the first pass of each round is the full one)."""
STATE_FILES_OF_APPLY = ("journal", "terms")
"""What an apply leaves in `OCTI_TANIUM_STATE_DIR` (the state every full pass starts from);
anything else a pass writes there is taken for the incremental mode's local snapshot."""
SNAPSHOT_GLOB: str | None = "opencti-snapshot-*.jsonl"
"""The incremental mode's local snapshot under `OCTI_TANIUM_STATE_DIR` (a glob such as
`snapshots/*.json`); None: any file a pass leaves besides `STATE_FILES_OF_APPLY`."""

TARGETS = {
    "pass_s": 5.0,  # no-change pass at 100,000, quiet machine
    "rss_mib": 600.0,
    "scale": 5.0,  # 500,000 within 5x: of the 100,000 targets, and of the 100,000 pass measured
    "incremental": 10.0,  # incremental at 500,000, 1 % churn, >= 10x faster than full
}


# --------------------------------------------------------------------------- the data


def indicator(i: int) -> dict[str, Any]:
    """The i-th benchmark indicator as OpenCTI exports it (deterministic)."""
    kind = i % 4
    if kind == 0:
        value, main = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", "IPv4-Addr"
        pattern = f"[ipv4-addr:value = '{value}']"
    elif kind == 1:
        value, main = f"host{i}.bench.example", "Domain-Name"
        pattern = f"[domain-name:value = '{value}']"
    elif kind == 2:
        value, main = f"http://host{i}.bench.example/payload", "Url"
        pattern = f"[url:value = '{value}']"
    else:
        value, main = f"{i:064x}", "StixFile"
        pattern = f"[file:hashes.'SHA-256' = '{value}']"
    stamp = f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{i:08x}-0000-4000-8000-{i * 7919 % 10**12:012d}",
        "created": stamp,
        "modified": stamp,
        "name": f"bench indicator {i}",
        "description": "generated for the benchmark",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        "valid_until": UNTIL,
        "revoked": False,
        "confidence": 75,
        "labels": list(PAIRS[i % len(PAIRS)]),
        "object_marking_refs": [GREEN],
        "x_opencti_score": i * 37 % 101,
        "x_opencti_detection": True,
        "x_opencti_main_observable_type": main,
    }


def indicators(n: int) -> list[dict[str, Any]]:
    return [indicator(i) for i in range(n)]


@dataclass(frozen=True)
class Churn:
    """A fraction of the source changed: a third new, a third revoked, a third relabelled."""

    n: int
    new: tuple[int, ...]
    revoked: tuple[int, ...]
    relabelled: tuple[int, ...]

    @classmethod
    def of(cls, n: int, fraction: float) -> Churn:
        k = max(1, round(n * fraction / 3))
        step = max(1, n // (2 * k))
        revoked = tuple(j * 2 * step for j in range(k))
        relabelled = tuple(j * 2 * step + step for j in range(k) if j * 2 * step + step < n)
        return cls(n, tuple(range(n, n + k)), revoked, relabelled)

    @staticmethod
    def new_labels(i: int) -> list[str]:
        return ["churned", LABELS[i % len(LABELS)]]

    def expected(self) -> tuple[int, int, int]:
        """(creates, updates, deletes): a hash indicator is a document and a blocklist entry
        (whose notes carry the labels, so a label change updates both)."""

        def count(ids: tuple[int, ...]) -> int:
            return len(ids) + sum(1 for i in ids if i % 4 == 3)

        return count(self.new), count(self.relabelled), count(self.revoked)

    def bundle(self) -> list[dict[str, Any]]:
        objects = indicators(self.n) + [indicator(i) for i in self.new]
        for i in self.revoked:
            objects[i].update(revoked=True, modified="2026-11-28T12:00:00.000Z")
        for i in self.relabelled:
            objects[i].update(labels=self.new_labels(i), modified="2026-11-28T12:00:00.000Z")
        return objects


def write_bundle(path: Path, objects: list[dict[str, Any]]) -> None:
    green = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": GREEN,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    }
    bundle = {
        "type": "bundle",
        "id": "bundle--0b0b0b0b-0000-4000-8000-000000000015",
        "objects": [green, *objects],
    }
    path.write_text(json.dumps(bundle), encoding="utf-8")


# --------------------------------------------------------------------------- the emulators


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(port: int, kind: str, n: int, ready: Any) -> None:
    if kind == "tanium":
        app = tanium_app(TaniumConfig())
    else:
        app = opencti_app(OpenCTIConfig())
        app.state.opencti.seed(indicators(n))
        gc.freeze()  # the seeded knowledge base is static: keep the collector off it
    ready.put(True)
    serve(app, "127.0.0.1", port, log_level="warning")


@contextlib.contextmanager
def emulator(kind: str, n: int = 0) -> Iterator[str]:
    """An emulator (`tanium`, or `opencti` seeded with `n` indicators) served by uvicorn in a
    child process: its CPU does not compete with the client's."""
    port = _free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve, args=(port, kind, n, ready))
    process.start()
    url = f"http://127.0.0.1:{port}"
    PIDS[url] = process.pid or 0
    try:
        ready.get(timeout=1800)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/__sandbox/faults", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if not process.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.join(timeout=10)


PIDS: dict[str, int] = {}
"""Each running emulator's process id, by URL (for its CPU time: `bench_tanium_read._cpu_of`)."""


def latency(url: str, ms: float) -> None:
    httpx.delete(url + "/__sandbox/faults", timeout=10).raise_for_status()
    if ms > 0:
        httpx.post(
            url + "/__sandbox/faults", json={"kind": "latency", "latencyMs": ms}, timeout=10
        ).raise_for_status()


def requests_of(tanium: str, opencti: str | None) -> tuple[int, int]:
    counters = httpx.get(tanium + "/__sandbox/counters", timeout=30).json()
    octi = 0
    if opencti:
        state = httpx.get(opencti + "/__sandbox/state", timeout=30).json()
        octi = int(state["requests"]["total"])
    return int(sum(counters["requests"].values())), octi


# --------------------------------------------------------------------------- seeding


def seed_tanium(tanium: str, source: str, state: Path) -> tuple[int, int]:
    """Tanium as an apply of `source` would leave it: the creates of the controller's own first
    plan against the empty emulator, loaded in bulk; the write journal; one deploy.
    Returns (documents, entries)."""
    httpx.post(tanium + "/__sandbox/reset", json={"seed": "empty"}, timeout=30).raise_for_status()
    outcome = asyncio.run(reconcile(POLICIES, source, mode="plan", now=datetime.now(UTC)))
    assert outcome.policies is not None
    source_name = outcome.policies.settings.source
    docs: list[DesiredIntel] = []
    entries: list[DesiredBlocklist] = []
    for item in outcome.plan.items:
        if item.action != "create" or item.desired is None:
            continue
        if item.kind == "intel":
            docs.append(DesiredIntel.model_validate(item.desired))
        elif item.kind == "blocklist":
            entries.append(DesiredBlocklist.model_validate(item.desired))
    del outcome
    gc.collect()
    stored: dict[TaniumId, tuple[str, str]] = {}
    with httpx.Client(base_url=tanium, timeout=600) as http:
        for start in range(0, len(docs), SEED_CHUNK):
            chunk = docs[start : start + SEED_CHUNK]
            body = {
                "intel": {
                    "sourceName": source_name,
                    "documents": [
                        {
                            "name": d.name,
                            "contents": d.content,
                            "type": d.intel_type,
                            "description": d.description,
                            "intrinsicId": content_intrinsic_id(d),
                            "labels": list(d.labels),
                            "platforms": list(d.platforms) or None,
                        }
                        for d in chunk
                    ],
                }
            }
            reply = http.post("/__sandbox/seed", json=body)
            reply.raise_for_status()
            for doc, ident in zip(chunk, reply.json()["intel"], strict=True):
                # what Tanium reports for the stored bytes (the emulator stores them as given)
                stored[TaniumId(ident)] = (
                    hashlib.md5(doc.content.encode()).hexdigest(),
                    doc.digest,
                )
        for start in range(0, len(entries), SEED_CHUNK):
            chunk_e = entries[start : start + SEED_CHUNK]
            body = {"reputation": {"entries": [entry_json(e) for e in chunk_e]}}
            http.post("/__sandbox/seed", json=body).raise_for_status()
        http.post(TR + "/intel/deploy", headers={"session": TANIUM_TOKEN}).raise_for_status()
    Journal(journal_path(tanium, source_name, state), stored).save()
    return len(docs), len(entries)


# --------------------------------------------------------------------------- one pass


@dataclass
class Run:
    wall: float
    rss_mib: float
    exit_code: int
    summary: str
    requests: tuple[int, int] = (0, 0)

    def counts(self) -> tuple[int, int, int, int]:
        """(create, update, delete, unchanged) from the summary line."""
        found = re.search(
            r"(\d+) to create, (\d+) to update, (\d+) to delete, (\d+) unchanged", self.summary
        )
        if found:
            a, b, c, d = (int(x) for x in found.groups())
            return a, b, c, d
        same = re.search(r"\((\d+) object\(s\) up to date\)", self.summary)
        return 0, 0, 0, int(same.group(1)) if same else -1


def cli() -> list[str]:
    script = Path(sys.executable).parent / "octi-tanium"
    return [str(script)] if script.exists() else [sys.executable, "-m", "controller"]


def fresh_state(base: Path, into: Path) -> Path:
    """A copy of what an apply left in the state directory (nothing an earlier pass added)."""
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(base, into)
    return into


def run_cli(
    source: str,
    env: dict[str, str],
    state: Path,
    out: Path,
    urls: tuple[str, str | None],
    extra_env: dict[str, str] | None = None,
) -> Run:
    command = [
        *cli(),
        "plan",
        "--policies",
        str(POLICIES),
        "--source",
        source,
        "--detailed-exitcode",
    ]
    environment = {**env, **(extra_env or {}), "OCTI_TANIUM_STATE_DIR": str(state)}
    before = requests_of(*urls)
    with out.open("wb") as sink:
        done = run_measured(command, env=environment, cwd=ROOT, stdout=sink, stderr=sink)
    after = requests_of(*urls)
    text = out.read_text(encoding="utf-8", errors="replace")
    line = next((x for x in text.splitlines() if x.startswith(("Plan:", "No changes."))), "")
    return Run(
        done.wall,
        done.rss_mib,
        done.exit_code,
        line or text[-2000:],
        (after[0] - before[0], after[1] - before[1]),
    )


def stages(source: str, env: dict[str, str], state: Path, out: Path) -> dict[str, Any]:
    """One pass through the driver, timed stage by stage (`bench/pass_stages.py`); `exit` is
    what its process spent outside the module (interpreter start-up and exit)."""
    command = [sys.executable, "-m", "bench.pass_stages", source, str(POLICIES)]
    environment = {**env, "OCTI_TANIUM_STATE_DIR": str(state)}
    with out.open("wb") as sink:
        done = run_measured(command, env=environment, cwd=ROOT, stdout=sink, stderr=sink)
    text = out.read_text(encoding="utf-8", errors="replace")
    if done.exit_code != 0:
        raise SystemExit(f"the stage timing failed:\n{text[-3000:]}")
    found = dict(json.loads(text.strip().splitlines()[-1]))
    found["seconds"]["exit"] = done.wall - found["seconds"]["in_process"]
    found["seconds"]["wall"] = done.wall
    found["rss_mib"] = done.rss_mib
    return found


def expect(run: Run, code: int, counts: tuple[int, int, int] | None, what: str) -> None:
    if run.exit_code != code or (counts is not None and run.counts()[:3] != counts):
        raise SystemExit(
            f"{what}: `octi-tanium plan` exited {run.exit_code} with {run.summary!r}; expected "
            f"exit {code}"
            + (f" and (create, update, delete) = {counts}" if counts else "")
            + " — the benchmark of a wrong pass is worthless: fix the setup or the controller"
        )


# --------------------------------------------------------------------------- scenarios


@dataclass
class Row:
    source: str
    variant: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mib for r in self.runs)


@dataclass
class Scenario:
    n: int
    args: argparse.Namespace
    tmp: Path
    tanium: str
    opencti: str | None
    rows: list[Row] = field(default_factory=list)
    stage_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    owned: dict[str, tuple[int, int]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TANIUM_URL": self.tanium,
            "TANIUM_TOKEN": TANIUM_TOKEN,
            "OCTI_TANIUM_PIVOT": "off",
            "NO_COLOR": "1",
        }
        if self.opencti:
            env.update(OPENCTI_URL=self.opencti, OPENCTI_TOKEN=OPENCTI_TOKEN)
        for name in INCREMENTAL_ENV:
            env.pop(name, None)
        return env

    def passes(
        self, row: Row, source: str, base: Path, code: int, counts: tuple[int, int, int] | None
    ) -> Row:
        urls = (self.tanium, self.opencti)
        for r in range(self.args.repeat):
            state = fresh_state(base, self.tmp / "state-run")
            run = run_cli(source, self.env(), state, self.tmp / "out.txt", urls)
            expect(run, code, counts, f"{row.source} {row.variant} (run {r + 1})")
            row.runs.append(run)
            print(
                f"  {row.source:<8} {row.variant:<22} {run.wall:7.2f} s  "
                f"{run.rss_mib:6.0f} MiB  {run.summary}",
                flush=True,
            )
        self.rows.append(row)
        return row

    def measure(self, kind: str) -> None:
        base = self.tmp / f"state-{kind}"
        base.mkdir()
        os.environ.update(self.env())
        os.environ["OCTI_TANIUM_STATE_DIR"] = str(base)
        bundle = self.tmp / "bundle.json"
        source = f"bundle:{bundle}" if kind == "bundle" else "opencti"
        latency(self.tanium, 0)
        if self.opencti:
            latency(self.opencti, 0)
        started = time.perf_counter()
        self.owned[kind] = seed_tanium(self.tanium, source, base)
        prune_state(base)
        print(
            f"  {kind}: Tanium seeded with {self.owned[kind][0]:,} documents and "
            f"{self.owned[kind][1]:,} entries in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for url in (self.tanium, self.opencti):
            if url:
                latency(url, self.args.latency_ms)
        self.passes(Row(kind, "no change"), source, base, 0, (0, 0, 0))
        state = fresh_state(base, self.tmp / "s")
        self.stage_rows[kind] = stages(source, self.env(), state, self.tmp / "stages.txt")
        if self.args.churn <= 0:
            return
        churn = Churn.of(self.n, self.args.churn)
        label = f"{self.args.churn:.0%} churn"
        if kind == "bundle":
            plain = self.tmp / "plain.json"
            bundle.rename(plain)
            write_bundle(bundle, churn.bundle())
            self.passes(Row(kind, label), source, base, 2, churn.expected())
            plain.replace(bundle)
            return
        assert self.opencti is not None
        apply_churn(churn, self.opencti)
        self.passes(Row(kind, label), source, base, 2, churn.expected())
        undo_churn(churn, self.opencti)
        if self.args.incremental:
            self.incremental(churn, label, base)

    def incremental(self, churn: Churn, label: str, base: Path) -> None:
        """Per round: a full first pass on a fresh state directory (it should leave the local
        snapshot), an incremental pass with nothing changed, the churn, an incremental pass
        (timed against the full passes of the same churn), the churn undone."""
        assert self.opencti is not None
        urls, out = (self.tanium, self.opencti), self.tmp / "out.txt"
        first = Row("opencti", "(first pass, full)")
        same = Row("opencti", "incremental no change")
        row = Row("opencti", f"incremental {label}")
        for r in range(self.args.repeat):
            state = fresh_state(base, self.tmp / "state-inc")
            run = run_cli("opencti", self.env(), state, out, urls, INCREMENTAL_ENV)
            expect(run, 0, (0, 0, 0), f"incremental, first pass (round {r + 1})")
            first.runs.append(run)
            added = local_snapshot(state)
            if not added:
                row.note = (
                    "not available: a first pass left no local snapshot in "
                    "OCTI_TANIUM_STATE_DIR (no incremental mode in this controller)"
                )
                print(f"  opencti  incremental: {row.note}", flush=True)
                self.rows.append(row)
                return
            run = run_cli("opencti", self.env(), state, out, urls, INCREMENTAL_ENV)
            expect(run, 0, (0, 0, 0), f"incremental, no change (round {r + 1})")
            same.runs.append(run)
            apply_churn(churn, self.opencti)
            run = run_cli("opencti", self.env(), state, out, urls, INCREMENTAL_ENV)
            if r == 0:  # where an incremental pass goes (the file still holds the full one's)
                environment = {**self.env(), **INCREMENTAL_ENV}
                self.stage_rows[f"incremental {label}"] = stages(
                    "opencti", environment, state, self.tmp / "stages.txt"
                )
            undo_churn(churn, self.opencti)
            expect(run, 2, churn.expected(), f"incremental, {label} (round {r + 1})")
            row.runs.append(run)
            row.note = f"local state: {', '.join(added[:3])}"
            print(
                f"  opencti  {row.variant:<22} {run.wall:7.2f} s  {run.rss_mib:6.0f} MiB  "
                f"{run.summary}  (first pass {first.runs[-1].wall:.2f} s, no change "
                f"{same.runs[-1].wall:.2f} s)",
                flush=True,
            )
        self.rows.extend([first, same, row])


def local_snapshot(state: Path) -> list[str]:
    """The files of `state` an apply does not leave (`STATE_FILES_OF_APPLY`): the incremental
    mode's local snapshot (`SNAPSHOT_GLOB` when set)."""
    found = sorted(
        str(p.relative_to(state))
        for p in state.rglob(SNAPSHOT_GLOB or "*")
        if p.is_file() and p.relative_to(state).parts[0] not in STATE_FILES_OF_APPLY
    )
    return found


def prune_state(state: Path) -> None:
    """Keep only what an apply leaves (the setup's plan may have left a local snapshot)."""
    for path in state.iterdir():
        if path.name not in STATE_FILES_OF_APPLY:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def apply_churn(churn: Churn, opencti: str) -> None:
    latency(opencti, 0)
    with httpx.Client(base_url=opencti + "/__sandbox", timeout=60) as http:
        for i in churn.new:
            obj = indicator(i)
            reply = http.post(
                "/objects",
                json={
                    "op": "create-indicator",
                    "pattern": obj["pattern"],
                    "name": obj["name"],
                    "description": obj["description"],
                    "labels": obj["labels"],
                    "markings": [GREEN],
                    "score": obj["x_opencti_score"],
                    "detection": True,
                    "valid_until": UNTIL,
                    "confidence": 75,
                },
            )
            reply.raise_for_status()
            CREATED[i] = reply.json()["standard_id"]
        for i in churn.revoked:
            http.post(
                "/objects", json={"op": "revoke", "id": indicator(i)["id"]}
            ).raise_for_status()
        for i in churn.relabelled:
            http.post(
                "/objects",
                json={
                    "op": "update",
                    "id": indicator(i)["id"],
                    "set": {"labels": Churn.new_labels(i)},
                },
            ).raise_for_status()
    latency(opencti, LATENCY_MS[0])


def undo_churn(churn: Churn, opencti: str) -> None:
    latency(opencti, 0)
    with httpx.Client(base_url=opencti + "/__sandbox", timeout=60) as http:
        for i in churn.new:
            http.post("/objects", json={"op": "delete", "id": CREATED.pop(i)}).raise_for_status()
        for i in churn.revoked:
            http.post(
                "/objects",
                json={"op": "update", "id": indicator(i)["id"], "set": {"revoked": False}},
            ).raise_for_status()
        for i in churn.relabelled:
            http.post(
                "/objects",
                json={
                    "op": "update",
                    "id": indicator(i)["id"],
                    "set": {"labels": indicator(i)["labels"]},
                },
            ).raise_for_status()
    latency(opencti, LATENCY_MS[0])


LATENCY_MS = [5.0]
"""The latency of the run (the churn helpers lift it while they change OpenCTI)."""
CREATED: dict[int, str] = {}
"""Churned-in indicator → the standard id the emulator gave it (to undo the churn)."""


# --------------------------------------------------------------------------- report


def report(scenarios: list[Scenario], args: argparse.Namespace) -> None:
    print(
        f"\nWhole pass: `octi-tanium plan --detailed-exitcode` in a subprocess, "
        f"{args.latency_ms:g} ms per request on both emulators, best / median of "
        f"{args.repeat}; RSS = the process's peak (wait4)"
    )
    print(
        f"{'n':>8} {'source':<8} {'variant':<24} {'best s':>7} {'median s':>9} "
        f"{'RSS MiB':>8} {'req Tanium':>10} {'req OCTI':>9}  plan"
    )
    for sc in scenarios:
        for row in sc.rows:
            if not row.runs:
                print(f"{sc.n:>8} {row.source:<8} {row.variant:<24} {row.note}")
                continue
            last = row.runs[-1]
            print(
                f"{sc.n:>8} {row.source:<8} {row.variant:<24} {row.best:>7.2f} "
                f"{row.median:>9.2f} {row.rss:>8.0f} {last.requests[0]:>10} "
                f"{last.requests[1]:>9}  {last.summary}"
            )
    print("\nWhere a no-change pass goes (one more pass through the same driver, own process), s:")
    keys = ("imports", "policies", "source", "tanium", "desired", "diff+plan", "unowned",
            "warnings", "rest", "report", "exit", "wall")  # fmt: skip
    print(f"{'n':>8} {'source':<8} " + " ".join(f"{k:>9}" for k in keys))
    # (an `incremental …` row: the incremental pass with the churn, in a process of its own)
    for sc in scenarios:
        for kind, got in sc.stage_rows.items():
            cells = " ".join(
                f"{got['seconds'][k]:>9.2f}" if k in got["seconds"] else f"{'-':>9}" for k in keys
            )
            print(f"{sc.n:>8} {kind:<8} {cells}")
    print(
        "  (imports: of the driver; policies: load and validate; source: bundle read or "
        "OpenCTI listing; tanium: inventory, journal, terms; desired: build_desired; "
        "unowned, warnings: the plan's unowned objects and policy warnings; rest: the "
        "driver's remainder; report: the text the CLI prints; exit: interpreter start-up "
        "and exit)"
    )
    print("\nTargets (issue 15; quiet machine):")
    by = {(sc.n, r.source, r.variant): r for sc in scenarios for r in sc.rows if r.runs}
    for sc in scenarios:
        for kind in sc.owned:
            found = by.get((sc.n, kind, "no change"))
            if found is None:
                continue
            verdict = ""
            if sc.n in (100_000, 500_000):  # at 500,000: 5x the 100,000 targets
                times = 1.0 if sc.n == 100_000 else TARGETS["scale"]
                seconds, megabytes = TARGETS["pass_s"] * times, TARGETS["rss_mib"] * times
                verdict = (
                    f"  [target < {seconds:g} s: "
                    f"{'met' if found.best < seconds else 'NOT met'}; "
                    f"RSS < {megabytes:g} MB: "
                    f"{'met' if found.rss * 1.048576 < megabytes else 'NOT met'}]"
                )
            print(
                f"  no-change pass, {kind}, {sc.n:,}: {found.best:.2f} s, "
                f"{found.rss * 1.048576:.0f} MB{verdict}"
            )
            small = by.get((100_000, kind, "no change"))
            if sc.n == 500_000 and small is not None:
                ratio = found.best / small.best
                print(
                    f"    500,000 / 100,000: {ratio:.2f}x  [target < {TARGETS['scale']:g}x: "
                    f"{'met' if ratio < TARGETS['scale'] else 'NOT met'}]"
                )
        churned = [r for r in sc.rows if r.source == "opencti" and "churn" in r.variant]
        full = next(
            (
                r
                for r in churned
                if r.variant.endswith("churn")
                and r.runs
                and not r.variant.startswith("incremental")
            ),
            None,
        )
        inc = next((r for r in churned if r.variant.startswith("incremental")), None)
        if inc is not None and full is not None:
            if inc.runs:
                ratio = full.best / inc.best
                goal = f"target >= {TARGETS['incremental']:g}x at 500,000"
                print(
                    f"  incremental vs full pass, {sc.n:,}, churned: {ratio:.1f}x faster "
                    f"({full.best:.2f} s -> {inc.best:.2f} s) [{goal}]"
                )
                same = by.get((sc.n, "opencti", "incremental no change"))
                whole = by.get((sc.n, "opencti", "no change"))
                if same is not None and whole is not None:
                    print(
                        f"  incremental vs full pass, {sc.n:,}, no change: "
                        f"{whole.best / same.best:.1f}x faster ({whole.best:.2f} s -> "
                        f"{same.best:.2f} s)"
                    )
            else:
                print(f"  incremental, {sc.n:,}: {inc.note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default=None,
        help="indicators, comma-separated (default 100000; the issue's: 100000,500000)",
    )
    parser.add_argument("--sources", default="bundle,opencti")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every contender")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="added per request")
    parser.add_argument("--churn", type=float, default=0.01, help="fraction changed (0: none)")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="also the incremental pass after churn (OpenCTI source)",
    )
    parser.add_argument("--quick", action="store_true", help="2,000 indicators, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    sizes = [int(s) for s in (args.sizes or ("2000" if args.quick else "100000")).split(",")]
    kinds = [k.strip() for k in args.sources.split(",") if k.strip()]
    unknown = set(kinds) - {"bundle", "opencti"}
    if unknown:
        parser.error(f"unknown source(s) {sorted(unknown)}: use bundle, opencti")
    LATENCY_MS[0] = args.latency_ms
    print(
        f"machine: {os.getloadavg()[0]:.1f} load average (1 min), {os.cpu_count()} CPUs", flush=True
    )
    scenarios = []
    saved_env = dict(os.environ)
    try:
        for n in sizes:
            print(f"\n{n:,} indicators", flush=True)
            with contextlib.ExitStack() as stack:
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pass-")))
                global POLICIES
                POLICIES = bench_policies(tmp)
                write_bundle(tmp / "bundle.json", indicators(n))
                tanium = stack.enter_context(emulator("tanium"))
                opencti = (
                    stack.enter_context(emulator("opencti", n)) if "opencti" in kinds else None
                )
                scenario = Scenario(n, args, tmp, tanium, opencti)
                for kind in kinds:
                    scenario.measure(kind)
                scenarios.append(scenario)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    report(scenarios, args)


if __name__ == "__main__":
    main()
