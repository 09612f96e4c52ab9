"""The OpenCTI emulator's conformance with the fact sheet (§2, §5, §12)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.records import standard_id

from .conftest import InProcess

LIST = """query L($first: Int, $after: ID, $filters: FilterGroup, $orderBy: IndicatorsOrdering,
  $orderMode: OrderingMode, $search: String) {
  indicators(first: $first, after: $after, filters: $filters, orderBy: $orderBy,
             orderMode: $orderMode, search: $search) {
    pageInfo { startCursor endCursor hasNextPage hasPreviousPage globalCount }
    edges { cursor node { id standard_id name x_opencti_score updated_at } }
  }
}"""


def group(*filters: dict[str, Any], mode: str = "and") -> dict[str, Any]:
    return {"mode": mode, "filters": list(filters), "filterGroups": []}


def listing(emulator: InProcess, **variables: Any) -> dict[str, Any]:
    response = emulator.post(LIST, variables)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["indicators"]  # type: ignore[no-any-return]


def errors_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["errors"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def big() -> InProcess:
    target = InProcess()
    target.state.seed(
        [
            {
                "type": "indicator",
                "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
                "pattern": f"[ipv4-addr:value = '10.{i // 65536}.{i // 256 % 256}.{i % 256}']",
                "pattern_type": "stix",
                "name": f"i{i}",
                "x_opencti_score": i % 100,
            }
            for i in range(6000)
        ]
    )
    return target


# --------------------------------------------------------------------------- pagination


def test_first_above_the_cap_returns_5000_and_no_next_page(big: InProcess) -> None:
    page = listing(big, first=6000)
    assert len(page["edges"]) == 5000
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["globalCount"] == 6000


def test_a_full_last_page_reports_a_next_page_that_is_empty(big: InProcess) -> None:
    first = listing(big, first=3000)
    second = listing(big, first=3000, after=first["pageInfo"]["endCursor"])
    assert second["pageInfo"]["hasNextPage"] is True
    third = listing(big, first=3000, after=second["pageInfo"]["endCursor"])
    assert third["edges"] == []
    assert third["pageInfo"] == {
        "startCursor": "",
        "endCursor": "",
        "hasNextPage": False,
        "hasPreviousPage": True,
        "globalCount": 6000,
    }


def test_default_page_is_500_in_standard_id_order(big: InProcess) -> None:
    page = listing(big)
    ids = [e["node"]["standard_id"] for e in page["edges"]]
    assert len(ids) == 500 and ids == sorted(ids)
    assert page["pageInfo"]["hasPreviousPage"] is False


def test_cursors_are_base64_json_of_the_sort_values(big: InProcess) -> None:
    edge = listing(big, first=1, orderBy="x_opencti_score", orderMode="desc")["edges"][0]
    values = json.loads(base64.b64decode(edge["cursor"]))
    assert values[0] == edge["node"]["x_opencti_score"] == 99
    assert values[1] == edge["node"]["standard_id"]


def test_ordering_uses_standard_id_as_tiebreaker(big: InProcess) -> None:
    page = listing(big, first=200, orderBy="x_opencti_score", orderMode="asc")
    keys = [(e["node"]["x_opencti_score"], e["node"]["standard_id"]) for e in page["edges"]]
    assert keys == sorted(keys) and keys[0][0] == 0


def test_keyset_pages_move_updated_items_like_elasticsearch() -> None:
    target = InProcess()
    for i in range(6):
        target.state.create_indicator(pattern=f"[domain-name:value = 'd{i}.example']", score=i)
    page1 = listing(target, first=3, orderBy="x_opencti_score", orderMode="asc")
    scores = [e["node"]["x_opencti_score"] for e in page1["edges"]]
    assert scores == [0, 1, 2]
    moved = page1["edges"][0]["node"]["standard_id"]
    target.state.update(moved, x_opencti_score=10)  # behind the cursor → ahead of it
    page2 = listing(
        target, first=3, orderBy="x_opencti_score", after=page1["pageInfo"]["endCursor"]
    )
    rest = listing(target, first=3, orderBy="x_opencti_score", after=page2["pageInfo"]["endCursor"])
    assert [e["node"]["x_opencti_score"] for e in page2["edges"]] == [3, 4, 5]
    assert [e["node"]["standard_id"] for e in rest["edges"]] == [moved]


def test_search_alone_orders_by_relevance(emulator: InProcess) -> None:
    emulator.state.create_indicator(
        pattern="[domain-name:value = 'emotet.example']",
        name="emotet",
        description="emotet payload host",
    )
    emulator.state.create_indicator(
        pattern="[domain-name:value = 'other.example']", name="other", description="emotet related"
    )
    emulator.state.create_indicator(pattern="[domain-name:value = 'none.example']", name="none")
    names = [e["node"]["name"] for e in listing(emulator, search="emotet")["edges"]]
    assert names == ["emotet", "other"]


# --------------------------------------------------------------------------- filters


def _names(emulator: InProcess, filters: dict[str, Any]) -> list[str]:
    return sorted(e["node"]["name"] for e in listing(emulator, filters=filters)["edges"])


@pytest.fixture
def small(emulator: InProcess) -> InProcess:
    state = emulator.state
    state.create_indicator(
        pattern="[ipv4-addr:value = '192.0.2.1']",
        name="a",
        labels=["Emotet", "tanium"],
        score=80,
        markings=["TLP:GREEN"],
    )
    state.create_indicator(
        pattern="[file:hashes.SHA256 = 'ab']",
        name="b",
        labels=["qakbot"],
        score=40,
        markings=["TLP:RED"],
    )
    state.create_indicator(pattern="rule x { condition: true }", pattern_type="yara", name="c")
    state.revoke(standard_id("indicator", {"pattern": "rule x { condition: true }"}))
    return emulator


def test_filters_combine_modes_and_operators(small: InProcess) -> None:
    f = {"key": ["objectLabel"], "values": ["EMOTET", "qakbot"]}
    assert _names(small, group(f)) == ["a", "b"]
    assert _names(small, group({**f, "mode": "and"})) == []
    assert _names(small, group({**f, "operator": "not_eq", "mode": "and"})) == ["c"]
    score = {"key": ["x_opencti_score"], "values": ["50"], "operator": "gte"}
    assert _names(small, group(f, score)) == ["a"]
    assert _names(small, group(f, score, mode="or")) == ["a", "b", "c"]
    assert _names(small, group({"key": "pattern_type", "values": ["yara"]})) == ["c"]
    assert _names(small, group({"key": ["revoked"], "values": ["true"]})) == ["c"]
    assert _names(small, group({"key": ["objectLabel"], "values": [], "operator": "nil"})) == ["c"]


def test_nested_groups(small: InProcess) -> None:
    inner = {
        "mode": "or",
        "filters": [
            {"key": ["pattern_type"], "values": ["yara"]},
            {"key": ["x_opencti_score"], "values": ["60"], "operator": "gt"},
        ],
        "filterGroups": [],
    }
    outer = {"mode": "and", "filters": [], "filterGroups": [inner]}
    assert _names(small, outer) == ["a", "c"]


def test_label_filters_take_ids_or_values(small: InProcess) -> None:
    label = small.state.store.labels["Emotet"]
    for value in (label["id"], label["standard_id"], "emotet", "EMOTET"):
        assert _names(small, group({"key": ["objectLabel"], "values": [value]})) == ["a"]


def test_marking_filters_take_ids(small: InProcess) -> None:
    red = small.state.store.markings["TLP:RED"]
    refused = {"key": ["objectMarking"], "values": [red["id"]], "operator": "not_eq", "mode": "and"}
    assert _names(small, group(refused)) == ["a", "c"]
    assert _names(small, group({"key": ["objectMarking"], "values": [red["standard_id"]]})) == ["b"]


def test_date_filters_with_date_math_and_nil(small: InProcess) -> None:
    recent = {"key": ["created"], "values": ["now-1d"], "operator": "gte"}
    assert _names(small, group(recent)) == ["a", "b", "c"]
    window = {"key": ["valid_until"], "values": ["now", "now+100d"], "operator": "within"}
    assert _names(small, group(window)) == ["a"]  # IPv4: 47 days; file 460; yara 470
    assert _names(small, group({"key": ["valid_until"], "values": [], "operator": "nil"})) == []


def test_hash_filters_match_any_spelling() -> None:
    target = InProcess()
    target.state.create_observable(entity_type="StixFile", hashes={"SHA256": "AB12"}, name="x")
    query = """query O($filters: FilterGroup) { stixCyberObservables(filters: $filters) {
      edges { node { observable_value } } } }"""
    f = group({"key": ["hashes.SHA-256"], "values": ["ab12"]})
    body = target.post(query, {"filters": f}).json()
    assert [
        e["node"]["observable_value"] for e in body["data"]["stixCyberObservables"]["edges"]
    ] == ["x"]


def test_entity_type_matches_parent_types(emulator: InProcess) -> None:
    emulator.state.create_observable(entity_type="IPv4-Addr", value="192.0.2.9")
    emulator.state.create_observable(entity_type="Domain-Name", value="x.example")
    query = """query O($types: [String], $filters: FilterGroup) {
      stixCyberObservables(types: $types, filters: $filters) { pageInfo { globalCount } } }"""

    def count(**variables: Any) -> int:
        body = emulator.post(query, variables).json()
        return int(body["data"]["stixCyberObservables"]["pageInfo"]["globalCount"])

    assert count() == 2
    assert count(types=["Stix-Cyber-Observable"]) == 2
    assert count(types=["IPv4-Addr"]) == 1
    assert count(filters=group({"key": ["entity_type"], "values": ["Domain-Name"]})) == 1


def test_an_unknown_filter_key_is_unsupported(small: InProcess) -> None:
    response = small.post(LIST, {"filters": group({"key": ["labelz"], "values": ["x"]})})
    (error,) = errors_of(response)
    assert error["extensions"]["code"] == "UNSUPPORTED_ERROR" == error["name"]
    assert error["message"] == "Incorrect filter keys not existing in any schema definition"
    assert error["extensions"]["data"]["keys"] == ["labelz"]
    assert response.json()["data"] == {"indicators": None}


def test_a_malformed_filter_group_is_refused(small: InProcess) -> None:
    (error,) = errors_of(small.post(LIST, {"filters": group({"key": [], "values": ["x"]})}))
    assert error["message"] == "Incorrect filters format"
    bad_mode = {"mode": "xor", "filters": [], "filterGroups": []}
    (error,) = errors_of(small.post(LIST, {"filters": bad_mode}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    (error,) = errors_of(small.post(LIST, {"filters": {"mode": "and", "filters": []}}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_script_operator_is_refused(small: InProcess) -> None:
    f = group({"key": ["name"], "values": ["x"], "operator": "script"})
    (error,) = errors_of(small.post(LIST, {"filters": f}))
    assert "script" in error["message"]


# ------------------------------------------------------------------ transport and protections


def test_a_missing_or_wrong_token_is_auth_required_with_http_200(small: InProcess) -> None:
    for token in (None, "wrong"):
        response = small.post(LIST, token=token)
        (error,) = errors_of(response)
        assert error["name"] == error["extensions"]["code"] == "AUTH_REQUIRED"
        assert error["message"] == "You must be logged in to do this."
        assert error["extensions"]["data"]["http_status"] == 401
        assert response.json()["data"] == {"indicators": None}


def test_a_missing_capability_is_forbidden() -> None:
    target = InProcess(OpenCTIConfig(tokens=("r",), capabilities={"r": frozenset({"KNOWLEDGE"})}))
    mutation = 'mutation { systemAdd(input: {name: "Tanium"}) { id } }'
    (error,) = errors_of(target.post(mutation, token="r"))
    assert error["name"] == "FORBIDDEN_ACCESS"
    assert "errors" not in target.post(LIST, token="r").json()


def test_a_second_alias_of_the_same_mutation_field_is_rejected(emulator: InProcess) -> None:
    twice = """mutation { a: systemAdd(input: {name: "Tanium"}) { id }
                          b: systemAdd(input: {name: "Other"}) { id } }"""
    (error,) = errors_of(emulator.post(twice))
    assert error["name"] == "GRAPHQL_VALIDATION_FAILED" and "systemAdd" in error["message"]
    different = """mutation { a: systemAdd(input: {name: "Tanium"}) { id }
                              b: identityAdd(input: {type: System, name: "X"}) { id } }"""
    assert "errors" not in emulator.post(different).json()
    assert emulator.state.store.counts()["identities"] == 2


def test_a_query_field_may_be_used_twice_not_three_times(emulator: InProcess) -> None:
    two = "query { a: about { version } b: about { version } }"
    assert "errors" not in emulator.post(two).json()
    three = "query { a: about { version } b: about { version } c: about { version } }"
    (error,) = errors_of(emulator.post(three))
    assert "Query.about" in error["message"]


def test_validation_and_variable_errors_have_codes(emulator: InProcess) -> None:
    (error,) = errors_of(emulator.post("query { indicators { edges { node { nope } } } }"))
    assert error["name"] == "GRAPHQL_VALIDATION_FAILED"
    (error,) = errors_of(emulator.post("query { indicators( }"))
    assert error["name"] == "GRAPHQL_PARSE_FAILED"
    (error,) = errors_of(emulator.post(LIST, {"first": "many"}))
    assert error["name"] == "BAD_USER_INPUT"


def test_introspection_is_refused(emulator: InProcess) -> None:
    (error,) = errors_of(emulator.post("query { __schema { types { name } } }"))
    assert error["name"] == "RESOURCE_NOT_FOUND"


def test_unimplemented_fields_are_errors_not_nulls(emulator: InProcess) -> None:
    (error,) = errors_of(emulator.post("query { reports { edges { node { id } } } }"))
    assert "does not implement Query.reports" in error["message"]


def test_only_post_on_graphql(emulator: InProcess) -> None:
    import httpx

    from .conftest import run

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = emulator.transport()
        async with httpx.AsyncClient(transport=transport, base_url="http://o.test") as client:
            return (
                await client.get("/graphql"),
                await client.options("/graphql"),
                await client.post("/graphql", json=[{"query": "{ about { version } }"}]),
            )

    get, options, batch = run(go())
    assert get.status_code == 405 and get.json()["name"] == "MethodNotAllowedError"
    assert options.status_code == 204
    assert batch.status_code == 400


def test_about_and_me(emulator: InProcess) -> None:
    body = emulator.post("query { about { version } me { name capabilities { name } } }").json()
    assert body["data"]["about"]["version"] == "7.260817.0"
    assert body["data"]["me"]["capabilities"] == [{"name": "BYPASS"}]
    older = InProcess(OpenCTIConfig(version="6.9.17"))
    assert older.post("query { about { version } }").json()["data"]["about"]["version"] == "6.9.17"


def test_the_rate_limit_answers_429(emulator: InProcess) -> None:
    target = InProcess(OpenCTIConfig(rate_limit=(2, 60.0)))
    statuses = [target.post("query { about { version } }").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --------------------------------------------------------------------------- entities and hooks


def test_single_fetch_by_any_id(small: InProcess) -> None:
    record = next(r for r in small.state.store.of_family("indicators") if r["name"] == "a")
    small.state.store.alias(record, "indicator--11111111-1111-4111-8111-111111111111")
    query = "query I($id: String!) { indicator(id: $id) { name } }"
    for ident in (
        record["id"],
        record["standard_id"],
        "indicator--11111111-1111-4111-8111-111111111111",
    ):
        assert small.post(query, {"id": ident}).json()["data"]["indicator"] == {"name": "a"}
    assert small.post(query, {"id": "indicator--nope"}).json()["data"]["indicator"] is None


def test_api_created_indicators_get_opencti_defaults(emulator: InProcess) -> None:
    now = emulator.state.clock.now()
    record = emulator.state.create_indicator(pattern="[ipv4-addr:value = '198.51.100.1']")
    assert record["standard_id"] == standard_id(
        "indicator", {"pattern": "[ipv4-addr:value = '198.51.100.1']"}
    )
    assert record["x_opencti_score"] == 50 and record["x_opencti_detection"] is False
    assert record["x_opencti_main_observable_type"] == "IPv4-Addr"
    assert (record["valid_until"] - record["valid_from"]).days == 47
    assert record["revoked"] is False and record["valid_from"] >= now


def test_the_expiration_manager_revokes_on_clock_advance(emulator: InProcess) -> None:
    from datetime import timedelta

    record = emulator.state.create_indicator(pattern="[url:value = 'http://x.example/']", score=80)
    before = record["updated_at"]
    assert emulator.state.advance(timedelta(days=48)) == 1
    assert record["revoked"] is True and record["x_opencti_detection"] is False
    assert record["x_opencti_score"] == 20 and record["updated_at"] > before


def test_updates_bump_updated_at_and_modified() -> None:
    from datetime import timedelta

    from .conftest import NOW

    emulator = InProcess(OpenCTIConfig(start=NOW))
    record = emulator.state.create_indicator(pattern="[domain-name:value = 'x.example']")
    emulator.state.advance(timedelta(hours=1), expire=False)
    emulator.state.update(record["standard_id"], labels=["new"])
    assert record["updated_at"] == record["modified"] == emulator.state.clock.now()
    assert [label["value"] for label in record["objectLabel"]] == ["new"]
    assert emulator.state.delete(record["id"]) is True
    assert emulator.state.store.counts()["indicators"] == 0


def test_based_on_links_are_served_both_ways(emulator: InProcess) -> None:
    from octi_sandbox.opencti import DEMO_SEED

    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))
    query = """query { indicators(filters: {mode: and, filterGroups: [], filters: [
      {key: "name", values: ["Emotet C2 192.0.2.10"]}]}) { edges { node {
        observables(first: 5) { edges { node { observable_value indicators(first: 5) {
          edges { node { name } } } } } } } } } }"""
    node = emulator.post(query).json()["data"]["indicators"]["edges"][0]["node"]
    (observable,) = node["observables"]["edges"]
    assert observable["node"]["observable_value"] == "192.0.2.10"
    assert observable["node"]["indicators"]["edges"] == [{"node": {"name": "Emotet C2 192.0.2.10"}}]
