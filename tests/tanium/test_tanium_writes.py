"""Writes: request shapes per intel type, header safety, creates that never duplicate on retry,
deploy waiting, blocklist batching, deletes treating 404 as done (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tanium_fakes import REP, TR, FakeClock, desired_entry, desired_intel, intel_json, reply, run

from controller.core.model import TaniumId
from controller.tanium import RejectedError, TaniumClient, TransientError

SOURCE = TaniumId(3)


class WriteServer:
    """An in-memory Tanium for writes. `lose_reply` drops the reply of the next N matching calls
    *after* applying them; `fail_before` answers 500 *without* applying them."""

    def __init__(self) -> None:
        self.docs: dict[int, dict[str, Any]] = {}
        self.labels: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "Emotet"}}
        self.sources: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.lose_reply: dict[str, int] = {}
        self.lost_as: type[httpx.TransportError] = httpx.RemoteProtocolError
        self.fail_before: dict[str, int] = {}
        self.deploys = 0
        self.deploy_busy = 0
        self.revision = 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path.rstrip('/')}"  # `intels/` as `intels`
        if self.fail_before.get(route, 0) > 0:
            self.fail_before[route] -= 1
            return httpx.Response(500, json={"text": "Internal Server Error"})
        response = self.answer(request)
        if self.lose_reply.get(route, 0) > 0:
            self.lose_reply[route] -= 1
            raise self.lost_as("reply lost", request=request)
        return response

    def answer(self, request: httpx.Request) -> httpx.Response:
        method, path, q = request.method, request.url.path.rstrip("/"), request.url.params
        if path == f"{TR}/intels" and method == "GET":
            found = [d for d in self.docs.values() if q.get("name", "") in d["name"]]
            return reply(found, meta={"totalCount": len(found)})
        if path == f"{TR}/sources/3/intels" and method == "POST":
            doc_id = len(self.docs) + 1
            name = request.headers.get("name", "Evil")
            self.docs[doc_id] = intel_json(doc_id, 3, name=name, md5="a" * 32, intrinsicId="key-1")
            return reply(self.docs[doc_id])
        if path == f"{TR}/sources":
            if method == "POST":
                self.sources.append({"id": 10 + len(self.sources), **json.loads(request.content)})
                return reply(self.sources[-1])
            return reply(self.sources)
        if path == f"{TR}/labels":
            if method == "POST":
                name = json.loads(request.content)["name"]
                if any(la["name"].lower() == name.lower() for la in self.labels.values()):
                    return httpx.Response(400, json={"text": "label already exists"})
                label = {"id": len(self.labels) + 1, "name": name}
                self.labels[label["id"]] = label
                return reply(label)
            return reply(list(self.labels.values()), meta={"totalCount": len(self.labels)})
        if path == f"{TR}/intel/status":
            return reply({"currentRevision": self.revision, "modifiedAt": str(self.revision)})
        if path == f"{TR}/intel/deploy":
            if self.deploy_busy > 0:
                self.deploy_busy -= 1
                return httpx.Response(400, json={"text": "Bad Request"})  # #3593
            self.deploys += 1
            self.revision += 1
            return reply({"taskId": 100 + self.deploys})
        if method == "PUT" and path.startswith(f"{TR}/intels/") and path.count("/") == 7:
            return reply(intel_json(int(path.rsplit("/", 1)[1]), 3))
        if method in ("DELETE", "PUT"):
            return reply({"ok": True} if "404" not in path else None,
                         status=404 if "404" in path else 200)  # fmt: skip
        return reply({"id": 55})

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.rstrip("/") == path]


def create(server: Callable[[httpx.Request], httpx.Response], doc: Any, **options: Any) -> Any:
    async def scenario(client: TaniumClient) -> Any:
        return await client.create_intel(SOURCE, doc)

    return run(server, scenario, **options)


@pytest.mark.parametrize(
    ("intel_type", "content_type", "type_header", "disposition"),
    [
        ("openioc", "application/xml", "openioc", "attachment; filename=indicator--1.ioc"),
        ("stix", "application/xml", "stix", "attachment; filename=indicator--1.stix"),
        ("yara", "application/octet-stream", "yara", "attachment; filename=evil.yara"),
        ("tanium-signal", "application/json", None, None),
    ],
)
def test_each_intel_type_is_uploaded_with_its_headers(
    intel_type: str, content_type: str, type_header: str | None, disposition: str | None
) -> None:
    server = WriteServer()
    filename = "evil.yara" if intel_type == "yara" else None
    doc = desired_intel(intel_type, filename=filename)
    create(server, doc)
    (sent,) = server.sent("POST", f"{TR}/sources/3/intels")
    assert sent.headers["content-type"] == content_type
    assert sent.headers.get("type") == type_header
    assert sent.headers.get("content-disposition") == disposition
    assert sent.content == doc.content.encode()
    if intel_type == "yara":
        assert sent.headers["name"] == "Evil"
        assert sent.headers["description"] == doc.description
    else:
        assert "name" not in sent.headers


def test_yara_update_is_named_after_the_current_intrinsic_id() -> None:
    server = WriteServer()
    doc = desired_intel("yara", filename="evil.yara")

    async def scenario(client: TaniumClient) -> Any:
        return await client.update_intel(TaniumId(9), doc, "old-name.yara")

    run(server, scenario)
    (sent,) = server.sent("PUT", f"{TR}/intels/9")
    assert sent.headers["content-disposition"] == "attachment; filename=old-name.yara"


def test_openioc_update_declaring_another_root_id_is_refused_locally() -> None:
    server = WriteServer()

    async def scenario(client: TaniumClient) -> Any:
        return await client.update_intel(TaniumId(9), desired_intel("openioc"), "other-id")

    with pytest.raises(RejectedError, match="would create a new document"):
        run(server, scenario)
    assert server.requests == []


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("name", "Evil\r\nX-Injected: 1", "control character"),
        ("description", "line one\nline two", "control character"),
        ("name", "悪意", "not Latin-1"),
        ("filename", "evil\n.yara", "control character"),
    ],
)
def test_unsafe_header_values_are_refused_before_sending(field: str, value: str, why: str) -> None:
    server = WriteServer()
    doc = desired_intel("yara", **{field: value} if field != "filename" else {"filename": value})
    with pytest.raises(RejectedError, match=why) as caught:
        create(server, doc)
    assert server.requests == []
    assert caught.value.object_name == doc.name


def test_latin1_header_values_travel_as_latin1_bytes() -> None:
    server = WriteServer()
    create(server, desired_intel("yara", name="Café ëvil", filename="e.yara"))
    (sent,) = server.sent("POST", f"{TR}/sources/3/intels")
    assert (
        sent.headers.raw[[k for k, _ in sent.headers.raw].index(b"name")][1] == b"Caf\xe9 \xebvil"
    )


@pytest.mark.parametrize(
    "lost_as", [httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.ReadError, httpx.WriteError]
)
def test_a_create_whose_reply_was_lost_is_not_duplicated(
    lost_as: type[httpx.TransportError],
) -> None:
    server = WriteServer()
    server.lost_as = lost_as
    server.lose_reply[f"POST {TR}/sources/3/intels"] = 1
    intel = create(server, desired_intel())
    assert len(server.docs) == 1
    assert len(server.sent("POST", f"{TR}/sources/3/intels")) == 1
    assert intel.id == 1 and intel.intrinsic_id == "key-1"


def test_a_create_that_did_not_land_is_retried_after_checking() -> None:
    server = WriteServer()
    server.fail_before[f"POST {TR}/sources/3/intels"] = 2
    intel = create(server, desired_intel())
    assert len(server.docs) == 1 and intel.id == 1
    assert len(server.sent("POST", f"{TR}/sources/3/intels")) == 3
    assert len(server.sent("GET", f"{TR}/intels")) == 2  # one look-up before each retry


def test_a_create_refused_before_sending_is_retried_without_looking() -> None:
    server = WriteServer()
    calls = []

    def refusing(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("Connection refused", request=request)
        return server(request)

    intel = create(refusing, desired_intel())
    assert intel.id == 1
    assert [r.method for r in calls] == ["POST", "POST"]


def test_an_uncertain_create_that_cannot_be_checked_is_raised_as_uncertain() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/sources/3/intels"] = 1
    server.fail_before[f"GET {TR}/intels"] = 99
    with pytest.raises(TransientError) as caught:
        create(server, desired_intel())
    assert caught.value.uncertain
    assert len(server.sent("POST", f"{TR}/sources/3/intels")) == 1


def test_ensure_source_looks_up_first_and_never_duplicates() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/sources"] = 1

    async def scenario(client: TaniumClient) -> Any:
        first = await client.ensure_source("OpenCTI", "from OpenCTI")
        second = await client.ensure_source("OpenCTI", "from OpenCTI")
        return first, second

    assert run(server, scenario) == (10, 10)
    assert len(server.sources) == 1
    assert json.loads(server.sent("POST", f"{TR}/sources")[0].content)["type"] == "api-client"


def test_create_label_after_a_lost_reply_and_with_a_taken_name() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/labels"] = 1

    async def scenario(client: TaniumClient) -> Any:
        made = await client.create_label("ransomware", "from OpenCTI")
        existing = await client.create_label("EMOTET", "from OpenCTI")
        return made, existing

    made, existing = run(server, scenario)
    assert made.name == "ransomware" and existing.id == 1
    assert len(server.labels) == 2


def test_scan_is_not_retried_after_an_uncertain_failure() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/on-demand-scans"] = 1

    async def scenario(client: TaniumClient) -> Any:
        return await client.scan(TaniumId(1), TaniumId(5))

    with pytest.raises(TransientError) as caught:
        run(server, scenario)
    assert caught.value.uncertain
    assert len(server.sent("POST", f"{TR}/on-demand-scans")) == 1


def test_scan_sends_integer_ids() -> None:
    server = WriteServer()

    async def scenario(client: TaniumClient) -> Any:
        return await client.scan(TaniumId(1), TaniumId(5))

    assert run(server, scenario) == 55
    sent = server.sent("POST", f"{TR}/on-demand-scans")[0]
    assert json.loads(sent.content) == {"computerGroupId": 1, "intelDocId": 5}


def test_deploy_waits_while_another_deployment_runs() -> None:
    server = WriteServer()
    server.deploy_busy = 2
    clock = FakeClock()

    async def scenario(client: TaniumClient) -> Any:
        return await client.deploy()

    assert run(server, scenario, clock) == 101
    assert server.deploys == 1 and len(clock.sleeps) == 2


def test_deploy_gives_up_waiting_after_deploy_wait() -> None:
    server = WriteServer()
    server.deploy_busy = 1000

    async def scenario(client: TaniumClient) -> Any:
        return await client.deploy()

    with pytest.raises(RejectedError, match="Bad Request"):
        run(server, scenario, deploy_wait=1.0)
    assert server.deploys == 0


def test_a_deploy_whose_reply_was_lost_is_not_repeated() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/intel/deploy"] = 1

    async def scenario(client: TaniumClient) -> Any:
        return await client.deploy()

    assert run(server, scenario) == 0  # landed; the task id was in the lost reply
    assert server.deploys == 1


def test_a_lost_deploy_still_running_is_not_repeated() -> None:
    server = WriteServer()
    server.lose_reply[f"POST {TR}/intel/deploy"] = 1

    def running(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"{TR}/intel/status":  # the running deploy is not reported yet
            return reply({"currentRevision": 1, "modifiedAt": "1"})
        if request.url.path == f"{TR}/intel/deploy" and server.deploys:
            server.requests.append(request)
            return httpx.Response(400, json={"text": "an intel deployment is already in progress"})
        return server(request)

    async def scenario(client: TaniumClient) -> Any:
        return await client.deploy()

    assert run(running, scenario) == 0
    assert server.deploys == 1
    assert len(server.sent("POST", f"{TR}/intel/deploy")) == 2


def test_deletes_treat_404_as_already_gone() -> None:
    server = WriteServer()

    async def scenario(client: TaniumClient) -> Any:
        await client.detach_label(TaniumId(404), TaniumId(1))  # no error
        return await client.delete_intel(TaniumId(5)), await client.blocklist_remove(TaniumId(404))

    assert run(server, scenario) == (True, False)
    (deleted,) = server.sent("DELETE", f"{TR}/intels")
    assert deleted.url.params["id"] == "5"


def test_attach_label_puts_the_label_id() -> None:
    server = WriteServer()

    async def scenario(client: TaniumClient) -> None:
        await client.attach_label(TaniumId(5), TaniumId(1))

    run(server, scenario)
    (sent,) = server.sent("PUT", f"{TR}/intels/5/labels")
    assert json.loads(sent.content) == {"id": 1}


def test_blocklist_entries_are_uploaded_in_chunks_with_lower_case_keys() -> None:
    server = WriteServer()
    entries = [desired_entry(n) for n in range(1, 1201)]

    async def scenario(client: TaniumClient) -> Any:
        return await client.blocklist_add(entries)

    assert run(server, scenario) == 1200
    sent = server.sent("POST", f"{REP}/reputations/custom/upload")
    assert len(sent) == 3 and all(r.url.params["append"] == "true" for r in sent)
    bodies = [json.loads(r.content) for r in sent]
    assert sorted(len(b) for b in bodies) == [200, 500, 500]
    first = next(b for b in bodies if b[0]["notes"] == "octi file--1")[0]
    assert first == {
        "list": "blacklist", "md5": f"{1:032x}", "sha1": "", "sha256": f"{1:064x}",
        "uploadedHash": f"{1:064x}", "notes": "octi file--1",
    }  # fmt: skip


def test_a_malformed_blocklist_entry_stops_the_upload_before_sending() -> None:
    server = WriteServer()
    entries = [desired_entry(1), desired_entry(2, md5="xyz", sha256="")]

    async def scenario(client: TaniumClient) -> Any:
        return await client.blocklist_add(entries)

    with pytest.raises(RejectedError, match="malformed hash 'xyz'"):
        run(server, scenario)
    assert server.requests == []
