"""`upsert_comment` against the GitHub stand-in over real HTTP: one plan comment per pull
request, found by its marker among all comments, edited in place, never duplicated."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest
from github_stand import (
    ACTIONS,
    ALICE,
    APP_TOKEN,
    OCTI_BOT,
    OTHER_BOT,
    PR,
    REPOSITORY,
    TOKEN,
    Stand,
)
from pydantic import SecretStr

from controller.github import (
    MARKER,
    MAX_BODY_CHARS,
    CommentAction,
    CommentBodyError,
    CommentResult,
    GitHubAPIError,
    GitHubClient,
    GitHubSettings,
    post_plan_comment,
    upsert_comment,
)

PLAN = "### octi-tanium plan\n\nPlan: 2 to create, 0 to update, 0 to delete.\n"
PLAN2 = "### octi-tanium plan\n\nPlan: 3 to create, 1 to update, 0 to delete.\n"


def upsert(stand: Stand, body: str, token: str = TOKEN, pr: int = PR) -> CommentResult:
    async def run() -> CommentResult:
        async with stand.client(token) as client:
            return await upsert_comment(stand.settings(token), pr, body, client=client)

    return asyncio.run(run())


def test_first_run_creates_one_comment_carrying_the_marker(github: Stand) -> None:
    result = upsert(github, PLAN)

    [comment] = github.fake.comments_on(PR)
    assert result.action is CommentAction.CREATED
    assert result.comment_id == comment["id"]
    assert result.url == comment["html_url"]
    assert result.url.endswith(f"/{REPOSITORY}/pull/{PR}#issuecomment-{comment['id']}")
    assert comment["body"] == f"{MARKER}\n{PLAN}"
    assert comment["user"]["login"] == OCTI_BOT.login
    assert result.author == OCTI_BOT.login
    assert result.describe() == f"created the plan comment on pull request #{PR}: {result.url}"


def test_second_run_edits_the_comment_and_never_adds_a_second(github: Stand) -> None:
    first = upsert(github, PLAN)
    second = upsert(github, PLAN2)

    [comment] = github.fake.comments_on(PR)
    assert second.action is CommentAction.UPDATED
    assert second.comment_id == first.comment_id == comment["id"]
    assert comment["body"] == f"{MARKER}\n{PLAN2}"
    assert github.fake.count("POST") == 1
    assert github.fake.count("PATCH") == 1


def test_an_identical_body_leaves_the_comment_unchanged_without_a_patch(github: Stand) -> None:
    first = upsert(github, PLAN)
    again = upsert(github, PLAN)

    assert again.action is CommentAction.UNCHANGED
    assert again.comment_id == first.comment_id
    assert github.fake.count("PATCH") == 0
    assert github.fake.count("POST") == 1
    assert "is up to date" in again.describe()


def test_a_body_that_already_carries_the_marker_is_posted_as_is(github: Stand) -> None:
    body = f"{PLAN}\n{MARKER}\n"
    upsert(github, body)
    assert [c["body"] for c in github.fake.comments_on(PR)] == [body]


def test_our_comment_after_150_others_is_found_on_the_second_page(github: Stand) -> None:
    for i in range(150):
        github.fake.add_comment(PR, f"review remark {i}", ALICE if i % 2 else OCTI_BOT)
    ours = github.fake.add_comment(PR, f"{MARKER}\nold plan", OCTI_BOT)

    result = upsert(github, PLAN)

    assert result.action is CommentAction.UPDATED
    assert result.comment_id == ours
    assert len(github.fake.comments_on(PR)) == 151
    listings = [r for r in github.fake.requests if r.method == "GET" and "comments" in r.path]
    assert len(listings) == 2  # 100 per page, then the Link header's next page
    assert listings[0].query == "per_page=100"
    assert listings[1].path.startswith("/repositories/")  # followed, not rebuilt
    assert "page=2" in listings[1].query


def test_a_persons_comment_carrying_the_marker_is_not_taken_over(github: Stand) -> None:
    quoted = github.fake.add_comment(PR, f"copied the plan: {MARKER} looks odd", ALICE)

    result = upsert(github, PLAN)

    assert result.action is CommentAction.CREATED
    assert result.comment_id != quoted
    assert result.ignored == (quoted,)
    assert github.fake.comments_on(PR)[0]["body"] == f"copied the plan: {MARKER} looks odd"
    assert github.fake.count("PATCH") == 0


def test_with_the_actions_token_only_a_bots_marked_comment_is_edited(github: Stand) -> None:
    persons = github.fake.add_comment(PR, f"{MARKER}\nhand-written", ALICE)
    ours = github.fake.add_comment(PR, f"{MARKER}\nold plan", ACTIONS)

    result = upsert(github, PLAN, token=APP_TOKEN)

    assert result.action is CommentAction.UPDATED
    assert (result.comment_id, result.author, result.ignored) == (ours, None, (persons,))
    bodies = {c["id"]: c["body"] for c in github.fake.comments_on(PR)}
    assert bodies == {persons: f"{MARKER}\nhand-written", ours: f"{MARKER}\n{PLAN}"}


def test_with_the_actions_token_a_first_run_creates_the_bots_comment(github: Stand) -> None:
    github.fake.add_comment(PR, f"{MARKER}\nhand-written", ALICE)
    result = upsert(github, PLAN, token=APP_TOKEN)
    again = upsert(github, PLAN, token=APP_TOKEN)

    assert (result.action, again.action) == (CommentAction.CREATED, CommentAction.UNCHANGED)
    authors = [c["user"]["login"] for c in github.fake.comments_on(PR)]
    assert authors == [ALICE.login, ACTIONS.login]


def test_of_two_marked_comments_of_ours_the_oldest_is_edited(github: Stand) -> None:
    oldest = github.fake.add_comment(PR, f"{MARKER}\nplan A", OCTI_BOT)
    later = github.fake.add_comment(PR, f"{MARKER}\nplan B", OCTI_BOT)
    github.fake.add_comment(PR, f"{MARKER}\nanother bot", OTHER_BOT)

    result = upsert(github, PLAN)

    assert result.comment_id == oldest
    assert result.ignored[0] == later
    assert len(github.fake.comments_on(PR)) == 3


def test_a_5xx_once_is_retried_then_succeeds(github: Stand) -> None:
    github.fake.fail("GET", "/comments", 502, body='{"message": "Server Error"}')

    result = upsert(github, PLAN)

    assert result.action is CommentAction.CREATED
    assert github.fake.count("GET", "/comments") == 2
    assert len(github.sleeps) == 1


def test_a_lost_reply_to_the_create_is_found_not_posted_again(github: Stand) -> None:
    github.fake.fail("POST", "/comments", 502, after=True)

    result = upsert(github, PLAN)

    [comment] = github.fake.comments_on(PR)
    assert result.action is CommentAction.CREATED
    assert result.comment_id == comment["id"]
    assert github.fake.count("POST") == 1


def test_a_create_that_failed_before_landing_is_sent_once_more(github: Stand) -> None:
    github.fake.fail("POST", "/comments", 503)

    result = upsert(github, PLAN)

    assert result.action is CommentAction.CREATED
    assert len(github.fake.comments_on(PR)) == 1
    assert github.fake.count("POST") == 2


def test_a_secondary_rate_limit_waits_what_retry_after_says(github: Stand) -> None:
    upsert(github, PLAN)
    github.fake.fail(
        "PATCH",
        "/issues/comments/",
        403,
        headers={"retry-after": "7"},
        body='{"message": "You have exceeded a secondary rate limit."}',
    )

    result = upsert(github, PLAN2)

    assert result.action is CommentAction.UPDATED
    assert github.sleeps[-1] == 7.0
    assert github.fake.comments_on(PR)[0]["body"].endswith(PLAN2)


def test_a_rate_limit_without_retry_after_waits_until_the_reset(github: Stand) -> None:
    github.fake.fail(
        "GET",
        "/user",
        429,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(1_700_000_030)},
        body='{"message": "API rate limit exceeded"}',
    )
    upsert(github, PLAN)
    assert github.sleeps == [31.0]  # the client's wall clock reads 1_700_000_000


def test_a_rate_limit_longer_than_the_retry_budget_is_not_waited(github: Stand) -> None:
    github.fake.fail("GET", "/user", 403, headers={"retry-after": "3600"}, body="{}")
    with pytest.raises(GitHubAPIError) as caught:
        upsert(github, PLAN)
    assert caught.value.temporary and caught.value.retry_after == 3600.0
    assert "rate limited" in str(caught.value)
    assert github.sleeps == []


def test_a_forbidden_write_is_reported_at_once_not_retried(github: Stand) -> None:
    github.fake.fail(
        "POST", "/comments", 403, body='{"message": "Resource not accessible by integration"}'
    )
    with pytest.raises(GitHubAPIError) as caught:
        upsert(github, PLAN)
    error = caught.value
    assert (error.method, error.status, error.temporary) == ("POST", 403, False)
    assert error.path == f"/repos/{REPOSITORY}/issues/{PR}/comments"
    assert "pull-requests: write" in str(error)
    assert github.fake.count("POST") == 1 and github.sleeps == []


def test_an_unknown_pull_request_is_a_404_naming_the_path(github: Stand) -> None:
    with pytest.raises(GitHubAPIError) as caught:
        upsert(github, PLAN, pr=999)
    assert caught.value.status == 404
    assert f"GET /repos/{REPOSITORY}/issues/999/comments?per_page=100 -> 404" in str(caught.value)


def test_a_body_over_65536_characters_is_refused_before_sending(github: Stand) -> None:
    body = "x" * (MAX_BODY_CHARS - len(MARKER))  # the marker line makes it one too many
    with pytest.raises(CommentBodyError, match=r"65,537 characters.*at most 65,536"):
        upsert(github, body)
    assert github.fake.requests == []


def test_a_body_of_exactly_65536_characters_is_posted(github: Stand) -> None:
    body = "x" * (MAX_BODY_CHARS - len(MARKER) - 1)
    upsert(github, body)
    assert len(github.fake.comments_on(PR)[0]["body"]) == MAX_BODY_CHARS


def test_every_request_carries_githubs_documented_headers(github: Stand) -> None:
    upsert(github, PLAN)
    upsert(github, PLAN2)
    for request in github.fake.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["user-agent"].startswith("octi-tanium/")
        assert request.status in (200, 201)


def test_github_enterprise_api_root_with_a_path_works(enterprise: Stand) -> None:
    assert enterprise.url.endswith("/api/v3")
    for i in range(120):
        enterprise.fake.add_comment(PR, f"remark {i}", ALICE)
    first = upsert(enterprise, PLAN)
    second = upsert(enterprise, PLAN2)
    assert (first.action, second.action) == (CommentAction.CREATED, CommentAction.UPDATED)
    assert all(r.path.startswith("/api/v3/") for r in enterprise.fake.requests)


def test_the_token_never_appears_in_errors_logs_or_output(
    github: Stand, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = json.dumps({"message": f"Server Error for Authorization: Bearer {TOKEN}"})
    github.fake.fail("GET", "/user", 500, times=4, body=echoed)  # every attempt
    with pytest.raises(GitHubAPIError) as caught:
        upsert(github, PLAN)
    bad = Stand(github.fake, github.url)
    with pytest.raises(GitHubAPIError) as unauthorized:
        upsert(bad, PLAN, token="ghp_UnknownTokenNEVERshown")
    assert unauthorized.value.status == 401

    settings = github.settings()
    texts = [
        str(caught.value),
        repr(caught.value),
        caught.value.body,
        str(unauthorized.value),
        repr(unauthorized.value),
        caplog.text,
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(github.client()),
        *capsys.readouterr(),
    ]
    assert "<redacted>" in caught.value.body
    for text in texts:
        assert TOKEN not in text and "ghp_UnknownTokenNEVERshown" not in text


def test_a_next_link_to_another_origin_is_not_followed() -> None:
    """The token goes to GITHUB_API_URL only, whatever a Link header says."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/user":
            return httpx.Response(200, json={"login": "octi-bot"})
        link = '<https://evil.example/repositories/1/issues/7/comments?page=2>; rel="next"'
        return httpx.Response(200, json=[], headers={"link": link})

    settings = GitHubSettings(token=SecretStr(TOKEN), repository=REPOSITORY)

    async def run() -> None:
        async with GitHubClient(settings, transport=httpx.MockTransport(handler)) as client:
            await upsert_comment(settings, PR, PLAN, client=client)

    with pytest.raises(GitHubAPIError, match="another origin"):
        asyncio.run(run())
    assert all(url.startswith("https://api.github.com/") for url in seen)


def test_post_plan_comment_reads_the_body_file_and_the_event(github: Stand, tmp_path: Path) -> None:
    body_file = tmp_path / "plan.md"
    body_file.write_text(PLAN, encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 8}}))
    environ = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_EVENT_PATH": str(event),
    }

    result = asyncio.run(post_plan_comment(body_file, environ=environ))

    assert (result.action, result.pr) == (CommentAction.CREATED, 8)
    assert [c["body"] for c in github.fake.comments_on(8)] == [f"{MARKER}\n{PLAN}"]
    again = asyncio.run(post_plan_comment(body_file, environ=environ))
    assert again.action is CommentAction.UNCHANGED


def test_post_plan_comment_names_an_unreadable_body_file(github: Stand, tmp_path: Path) -> None:
    environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github.url}
    with pytest.raises(CommentBodyError, match=r"--body-file .*missing\.md cannot be read"):
        asyncio.run(post_plan_comment(tmp_path / "missing.md", pr=PR, environ=environ))
    assert github.fake.requests == []
