"""Helpers of the GitHub tests: the stand-in served over HTTP, its accounts, clients that never
really sleep (their `Timing` records the waits)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fake_github import Account, FakeGitHub
from octi_sandbox.server import serve_in_thread
from pydantic import SecretStr

from controller.github import GitHubClient, GitHubSettings
from controller.retry import RetryPolicy, Timing

REPOSITORY = "acme/intel-policies"
PR = 7
TOKEN = "ghp_Pat0f0ctiBotNEVERshown9876543210"
APP_TOKEN = "ghs_InstallationTokenNEVERshown12345"
HUMAN_TOKEN = "ghp_AliceOwnTokenNEVERshown000000000"
OCTI_BOT = Account("octi-bot", 501)
"""A machine user whose personal access token CI uses: `GET /user` answers."""
ACTIONS = Account("github-actions[bot]", 41898282, type="Bot", installation=True)
"""GitHub Actions' own token: `GET /user` is refused, comments are written as a bot."""
ALICE = Account("alice", 502)
OTHER_BOT = Account("dependabot[bot]", 49699333, type="Bot", installation=True)
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, max_total=600.0)


@dataclass
class Stand:
    fake: FakeGitHub
    url: str
    sleeps: list[float] = field(default_factory=list)

    def settings(self, token: str = TOKEN) -> GitHubSettings:
        return GitHubSettings(token=SecretStr(token), repository=REPOSITORY, api_url=self.url)

    def client(self, token: str = TOKEN, retry: RetryPolicy = FAST) -> GitHubClient:
        async def record(seconds: float) -> None:
            self.sleeps.append(seconds)

        timing = Timing(sleep=record, wall_clock=lambda: 1_700_000_000.0, rng=random.Random(3))
        return GitHubClient(self.settings(token), retry=retry, timing=timing)


def stand(prefix: str = "") -> Iterator[Stand]:
    """Serve a fresh stand-in (API root at `prefix`) for as long as the generator runs."""
    fake = FakeGitHub(REPOSITORY, pulls=(PR, 8), prefix=prefix)
    for token, account in ((TOKEN, OCTI_BOT), (APP_TOKEN, ACTIONS), (HUMAN_TOKEN, ALICE)):
        fake.add_token(token, account)
    with serve_in_thread(fake.app) as base_url:
        yield Stand(fake, base_url + prefix)
