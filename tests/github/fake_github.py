"""A local stand-in for the GitHub REST API's issue comments, served over real HTTP.

What it does as GitHub documents it (REST API version 2022-11-28):
- `Authorization: Bearer <token>` (or `token <token>`). An unknown token: 401 "Bad credentials".
  No token: 401 "Requires authentication" on `/user`; 404 on the (private) repository.
- `GET /user`: the token's account. App installation tokens (GitHub Actions' `GITHUB_TOKEN`)
  get 403 "Resource not accessible by integration".
- `GET /repos/{owner}/{repo}/issues/{number}/comments`: oldest first; `per_page` (default 30,
  at most 100) and `page` (default 1); a `Link` header with `next`, `last`, `first`, `prev`
  when there is more than one page, pointing at `/repositories/{id}/...` as GitHub does.
  404 for an unknown repository or issue.
- `POST` on the same path `{"body"}`: 201 with the comment and `Location`; 422 when the body is
  missing, not a string, or longer than 65,536 characters. A read-only token: 403.
- `PATCH /repos/{owner}/{repo}/issues/comments/{id}` `{"body"}`: 200; 404 for an unknown id.
- A comment: `id`, `node_id`, `url`, `html_url`, `issue_url`, `body`, `user` (`login`, `id`,
  `type`), `created_at`, `updated_at`, `author_association`.
- `X-GitHub-Api-Version` other than 2022-11-28: 400. Rate limit headers on every reply.

Faults (`fail`) answer chosen statuses in place of the next matching requests, before or after
the request took effect (a lost reply). `requests` records each request (method, path, query,
headers without `authorization`).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

API_VERSIONS = {"2022-11-28"}
MAX_BODY = 65_536
DOCS = "https://docs.github.com/rest"
RATE_LIMIT_HEADERS = (
    (b"x-ratelimit-limit", b"5000"),
    (b"x-ratelimit-remaining", b"4999"),
    (b"x-ratelimit-reset", b"1700003600"),
    (b"x-ratelimit-resource", b"core"),
)


@dataclass(frozen=True)
class Account:
    login: str
    id: int
    type: str = "User"  # "Bot" for app installations
    installation: bool = False
    """An app installation token: cannot read /user; writes as `<app>[bot]`."""
    can_write: bool = True


@dataclass
class Fault:
    method: str
    path_contains: str
    status: int
    times: int = 1
    after: bool = False
    """True: the request takes effect, then its reply is replaced (a lost reply)."""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "Server Error"}'


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    status: int = 0
    """Set before the reply leaves, so a client never sees a reply not yet recorded."""


class FakeGitHub:
    """State plus the Starlette app; `app` is served by `serve_in_thread`."""

    def __init__(
        self,
        repository: str = "acme/intel-policies",
        pulls: tuple[int, ...] = (7,),
        *,
        prefix: str = "",
        web_url: str = "https://github.example",
    ) -> None:
        self.lock = threading.Lock()
        self.repository = repository
        self.repo_id = 4242
        self.issues = set(pulls)
        self.web_url = web_url
        self.prefix = prefix
        self.tokens: dict[str, Account] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self._ids = itertools.count(1_000_001)
        self._clock = itertools.count(1)
        routes = [
            Route("/user", self._user, methods=["GET"]),
            Route(
                "/repos/{owner}/{repo}/issues/{number:int}/comments",
                self._comments,
                methods=["GET", "POST"],
            ),
            Route(
                "/repositories/{repo_id:int}/issues/{number:int}/comments",
                self._comments,
                methods=["GET"],
            ),
            Route(
                "/repos/{owner}/{repo}/issues/comments/{comment_id:int}",
                self._comment,
                methods=["GET", "PATCH"],
            ),
        ]
        self.app = Starlette(routes=[Mount(prefix, routes=routes)] if prefix else routes)
        self.app.add_middleware(_Middleware, fake=self)

    # -- test set-up and inspection -------------------------------------------------------

    def add_token(self, token: str, account: Account) -> None:
        self.tokens[token] = account

    def add_comment(self, number: int, body: str, author: Account) -> int:
        with self.lock:
            return int(self._store(number, body, author)["id"])

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.comments.values() if c["_issue"] == number]

    def fail(self, method: str, path_contains: str, status: int, **options: Any) -> Fault:
        fault = Fault(method, path_contains, status, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, path_contains: str = "") -> int:
        return sum(1 for r in self.requests if r.method == method and path_contains in r.path)

    # -- the API ----------------------------------------------------------------------------

    def _store(self, number: int, body: str, author: Account) -> dict[str, Any]:
        comment_id = next(self._ids)
        stamp = _stamp(next(self._clock))
        comment = {
            "_issue": number,
            "id": comment_id,
            "node_id": f"IC_kwDO{comment_id}",
            "url": f"/repos/{self.repository}/issues/comments/{comment_id}",
            "html_url": f"{self.web_url}/{self.repository}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"/repos/{self.repository}/issues/{number}",
            "body": body,
            "user": {"login": author.login, "id": author.id, "type": author.type},
            "created_at": stamp,
            "updated_at": stamp,
            "author_association": "NONE" if author.type == "Bot" else "MEMBER",
        }
        self.comments[comment_id] = comment
        return comment

    def _account(self, request: Request) -> Account | Response | None:
        """The caller's account; None without credentials; a 401 reply for a bad token."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            return None
        account = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if account is None:
            return _error(401, "Bad credentials")
        return account

    def _repository(self, request: Request) -> bool:
        params = request.path_params
        if "repo_id" in params:
            return bool(params["repo_id"] == self.repo_id)
        name = f"{params['owner']}/{params['repo']}"
        return name.lower() == self.repository.lower()

    async def _user(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        if account is None:
            return _error(401, "Requires authentication")
        if account.installation:
            return _error(403, "Resource not accessible by integration")
        return JSONResponse({"login": account.login, "id": account.id, "type": account.type})

    async def _comments(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        number = request.path_params["number"]
        if account is None or not self._repository(request) or number not in self.issues:
            return _error(404, "Not Found")
        if request.method == "POST":
            if not account.can_write:
                return _error(403, "Resource not accessible by integration")
            body, problem = await _body(request)
            if problem is not None:
                return problem
            with self.lock:
                comment = self._store(number, body, account)
            return JSONResponse(
                self._public(request, comment),
                status_code=201,
                headers={"location": self._root(request) + comment["url"]},
            )
        per_page = min(max(_int(request.query_params.get("per_page"), 30), 1), 100)
        page = max(_int(request.query_params.get("page"), 1), 1)
        with self.lock:
            mine = [c for c in self.comments.values() if c["_issue"] == number]
        last = max(1, -(-len(mine) // per_page))
        chunk = mine[(page - 1) * per_page : page * per_page]
        headers = {}
        if last > 1:
            headers["link"] = self._links(request, number, per_page, page, last)
        return JSONResponse([self._public(request, c) for c in chunk], headers=headers)

    def _links(self, request: Request, number: int, per_page: int, page: int, last: int) -> str:
        base = f"{self._root(request)}/repositories/{self.repo_id}/issues/{number}/comments"

        def link(target: int, rel: str) -> str:
            return f'<{base}?{urlencode({"per_page": per_page, "page": target})}>; rel="{rel}"'

        parts = []
        if page > 1:
            parts += [link(page - 1, "prev")]
        if page < last:
            parts += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            parts += [link(1, "first")]
        return ", ".join(parts)

    def _root(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{self.prefix}"

    def _public(self, request: Request, comment: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in comment.items() if not k.startswith("_")}
        shown["url"] = self._root(request) + comment["url"]
        shown["issue_url"] = self._root(request) + comment["issue_url"]
        return shown

    async def _comment(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        if account is None or not self._repository(request):
            return _error(404, "Not Found")
        with self.lock:
            comment = self.comments.get(request.path_params["comment_id"])
        if comment is None:
            return _error(404, "Not Found")
        if request.method == "GET":
            return JSONResponse(self._public(request, comment))
        if not account.can_write:
            return _error(403, "Resource not accessible by integration")
        body, problem = await _body(request)
        if problem is not None:
            return problem
        with self.lock:
            comment["body"] = body
            comment["updated_at"] = _stamp(next(self._clock))
            return JSONResponse(self._public(request, comment))


class _Middleware:
    """Records requests, checks the API version, applies faults, adds rate limit headers."""

    def __init__(self, app: Any, fake: FakeGitHub) -> None:
        self.app = app
        self.fake = fake

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        method, path = scope["method"], scope["path"]
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        record = Recorded(method, path, scope.get("query_string", b"").decode(), headers)
        with self.fake.lock:
            self.fake.requests.append(record)

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                sent = list(message.get("headers", []))
                present = {name.lower() for name, _ in sent}
                message["headers"] = sent + [
                    (name, value) for name, value in RATE_LIMIT_HEADERS if name not in present
                ]
            await send(message)

        version = request.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            await _error(400, f"Unsupported API version {version}")(scope, receive, recording_send)
            return
        fault = self._fault(method, path)
        if fault is None:
            await self.app(scope, receive, recording_send)
            return
        if fault.after:
            await self.app(scope, receive, _discard)
        reply = Response(
            fault.body,
            status_code=fault.status,
            headers=fault.headers,
            media_type="application/json",
        )
        await reply(scope, receive, recording_send)

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.fake.lock:
            for fault in self.fake.faults:
                if fault.times > 0 and fault.method == method and fault.path_contains in path:
                    fault.times -= 1
                    return fault
        return None


async def _discard(message: Any) -> None:
    return None


async def _body(request: Request) -> tuple[str, Response | None]:
    try:
        payload = json.loads(await request.body())
    except ValueError:
        return "", _error(400, "Problems parsing JSON")
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, str):
        return "", _error(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
    if len(body) > MAX_BODY:
        return "", _error(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {MAX_BODY} characters)",
                }
            ],
        )
    return body, None


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"message": message, **extra, "documentation_url": DOCS, "status": str(status)},
        status_code=status,
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _stamp(tick: int) -> str:
    return f"2024-05-01T12:{tick // 60 % 60:02d}:{tick % 60:02d}Z"
