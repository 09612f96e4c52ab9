"""`run`'s passes reuse what the previous pass computed (`PassMemory`): they plan exactly what a
full pass plans, over real HTTP against both emulators, through changes in OpenCTI (creates,
revocations, label changes, deletions) and in Tanium (documents edited or deleted by hand), and
after applying converge to a Tanium a full plan finds in sync."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from controller.core.plan import Plan
from controller.reconcile import PassMemory, reconcile
from tests.e2e.harness import TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING
from tests.e2e.test_stream_trigger import OPENCTI_TOKEN, environment

TR = "/plugin/products/threat-response/api/v1"
LABELS = ("emotet", "qakbot", "phishing")


def shape(plan: Plan) -> tuple[Any, ...]:
    """What a plan does: its items (what apply writes and expects to find included), skips,
    guards and summary — not when it was made."""
    return plan.items, plan.skipped, plan.guards, plan.summary


class World:
    """The two emulators and the changes a step makes to them."""

    def __init__(self, opencti: str, box: Sandbox, rng: random.Random) -> None:
        self.opencti, self.box, self.rng = opencti, box, rng
        self.indicators: list[str] = []
        self.made = 0

    def sandbox(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = httpx.post(f"{self.opencti}/__sandbox/objects", json=body, timeout=30)
        reply.raise_for_status()
        return dict(reply.json())

    def create(self) -> None:
        self.made += 1
        value = f"203.0.113.{self.made % 250}" if self.made % 2 else f"w{self.made}.example"
        kind = "ipv4-addr" if self.made % 2 else "domain-name"
        created = self.sandbox(
            {
                "op": "create-indicator",
                "pattern": f"[{kind}:value = '{value}']",
                "name": value,
                "detection": True,
                "labels": [self.rng.choice(LABELS)],
            }
        )
        self.indicators.append(created["id"])

    def step(self) -> str:
        """One random change; returns what it was (for the failure message)."""
        choice = self.rng.choice(
            ["create", "create", "revoke", "relabel", "delete", "tanium-delete", "tanium-edit"]
        )
        if choice == "create" or not self.indicators:
            self.create()
            return "create"
        target = self.rng.choice(self.indicators)
        if choice == "revoke":
            self.sandbox({"op": "revoke", "id": target})
        elif choice == "relabel":
            labels = self.rng.sample(LABELS, self.rng.randint(0, 2))
            self.sandbox({"op": "update", "id": target, "set": {"labels": labels}})
        elif choice == "delete":
            self.sandbox({"op": "delete", "id": target})
            self.indicators.remove(target)
        else:
            docs = self.box.state()["intels"]
            if not docs:
                return f"{choice} (nothing in Tanium)"
            doc = self.rng.choice(docs)
            with httpx.Client(base_url=self.box.url + TR, headers={"session": TOKEN}) as api:
                if choice == "tanium-delete":
                    api.delete(f"/intels/{doc['id']}").raise_for_status()
                else:  # a hand edit: the description loses the marker's digest
                    api.put(
                        f"/intels/{doc['id']}/labels", json={"id": self.label_id(api)}
                    ).raise_for_status()
        return choice

    @staticmethod
    def label_id(api: httpx.Client) -> int:
        labels = api.get("/labels", params={"noLimit": "true"}).json()["data"]
        if labels:
            return int(labels[0]["id"])
        return int(api.post("/labels", json={"name": "by-hand"}).json()["data"]["id"])


@pytest.mark.parametrize("seed", [3, 11])
def test_passes_with_memory_plan_what_full_passes_plan_and_converge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,))
    with tanium_sandbox() as box, serve_opencti(config) as (url, _):
        environment(monkeypatch, box, url, tmp_path)
        monkeypatch.setenv("OCTI_TANIUM_PIVOT", "off")  # its writes are not what is compared
        monkeypatch.setenv("OCTI_TANIUM_FULL_EVERY", "1000")  # warm passes stay warm
        world = World(url, box, random.Random(seed))
        for _ in range(8):
            world.create()
        memory = PassMemory()

        async def warm(mode: str) -> Plan:
            outcome = await reconcile(
                EVERYTHING, "opencti", mode=mode, now=NOW[0], incremental=True, memory=memory
            )
            return outcome.plan

        async def full() -> Plan:
            outcome = await reconcile(EVERYTHING, "opencti", mode="plan", now=NOW[0])
            return outcome.plan

        NOW[0] = datetime.now(UTC)
        asyncio.run(warm("apply"))
        for number in range(12):
            what = [world.step() for _ in range(random.Random(seed + number).randint(1, 3))]
            NOW[0] = datetime.now(UTC)
            warm_plan, full_plan = asyncio.run(warm("plan")), asyncio.run(full())
            assert shape(warm_plan) == shape(full_plan), (number, what)
            asyncio.run(warm("apply"))
            NOW[0] = datetime.now(UTC)
            after = asyncio.run(full())
            assert not after.has_changes, (number, what, after.summary)
            assert shape(asyncio.run(warm("plan"))) == shape(after), (number, what)


NOW = [datetime.now(UTC)]
