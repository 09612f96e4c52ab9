"""Intel documents in the four formats: dispatch, extracted fields, validation like Tanium."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from octi_sandbox.tanium.intel import parse_content_disposition

from .conftest import TR, Api, corpus_bytes, corpus_json

SIGNAL_FILE = "signals/zipfldr-routethecall.signal.json"

OPENIOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="test1">
  <short_description>VIRUS TEST</short_description>
  <description>Generic indicator for the virus test.</description>
  <definition><Indicator operator="OR" id="i1"><IndicatorItem id="ii1" condition="is">
    <Context document="FileItem" search="FileItem/Md5sum" type="mir"/>
    <Content type="md5">44d88612fea8a8f36de82e1278abb02f</Content>
  </IndicatorItem></Indicator></definition>
</ioc>"""

STIX_VALID = b"""<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1"
  xmlns:indicator="http://stix.mitre.org/Indicator-2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:example="http://example.com" id="example:Package-1" version="1.2">
 <stix:Indicators>
  <stix:Indicator id="example:indicator-1" timestamp="2014-02-20T09:00:00Z"
      xsi:type="indicator:IndicatorType">
   <indicator:Title>Evil domain</indicator:Title>
   <indicator:Description>A domain used by the evil group.</indicator:Description>
  </stix:Indicator>
 </stix:Indicators>
</stix:STIX_Package>"""

STIX_INVALID = STIX_VALID.replace(b"<indicator:Title>", b"<indicator:Bogus/><indicator:Title>")

YARA = b'rule evil_strings { strings: $a = "evil" condition: $a }'


def _doc(api: Api, body: bytes, **headers: str) -> Any:
    sid = api.source()
    response = api.upload(sid, body, **headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


# ------------------------------------------------------------------------ the corpus signal
def test_corpus_signal_md5_and_size_are_of_its_compact_json(tanium: Api) -> None:
    doc = _doc(tanium, corpus_bytes(SIGNAL_FILE), **{"content-type": "application/json"})
    assert (doc["md5"], doc["size"]) == ("f3ddf06be9e182ae7ddc16192dc5b846", 795)


def test_corpus_signal_intrinsic_id_is_its_id_key(tanium: Api) -> None:
    doc = _doc(tanium, corpus_bytes(SIGNAL_FILE), **{"content-type": "application/json"})
    assert doc["intrinsicId"] == "Zipfldr Library Proxy Execution via RouteTheCall"
    assert doc["type"] == "tanium-signal"


def test_corpus_signal_compiles_to_the_corpus_compiled_terms(tanium: Api) -> None:
    doc = _doc(tanium, corpus_bytes(SIGNAL_FILE), **{"content-type": "application/json"})
    expected = corpus_json("signals/zipfldr-routethecall.compiled.json")
    compiled = doc["compiled"]

    def terms(c: Any) -> set[str]:
        return {json.dumps(t, sort_keys=True) for t in c["terms"]}

    assert terms(compiled) == terms(expected)
    assert {k: v for k, v in compiled.items() if k != "terms"} == {
        k: v for k, v in expected.items() if k != "terms"
    }


def test_corpus_signal_fields_match_tanium_intel_doc(tanium: Api) -> None:
    doc = _doc(tanium, corpus_bytes(SIGNAL_FILE), **{"content-type": "application/json"})
    tanium_doc = corpus_json("signals/demisto-readme-intel-doc-509-context.json")["Tanium"][
        "IntelDoc"
    ]
    assert doc["name"] == tanium_doc["Name"]
    assert doc["description"] == tanium_doc["Description"]
    assert doc["platforms"] == tanium_doc["Platforms"]
    assert doc["mitreAttack"] == json.loads(tanium_doc["MitreAttack"])
    stored = tanium.data("GET", f"{TR}/intels/{doc['id']}")["contents"]
    assert stored == tanium_doc["Contents"]


def test_signal_without_id_has_null_intrinsic_id(tanium: Api) -> None:
    body = {
        "name": "n",
        "description": "d",
        "platforms": ["windows"],
        "contents": "process.path contains x",
    }
    doc = _doc(tanium, json.dumps(body).encode(), **{"content-type": "application/json"})
    assert doc["intrinsicId"] is None


def test_signal_mitre_attack_can_be_ignored_by_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(signal_mitre_attack="ignore")
    doc = _doc(api, corpus_bytes(SIGNAL_FILE), **{"content-type": "application/json"})
    assert doc["mitreAttack"] is None


# ------------------------------------------------------------------------ field sets
def test_created_doc_has_the_fields_of_the_real_create_response(tanium: Api) -> None:
    doc = _doc(tanium, OPENIOC, **{"content-type": "application/xml", "type": "openioc"})
    assert set(doc) == set(corpus_json("intel-docs/create_intel_docs_raw_response.json"))


def test_single_doc_get_has_the_fields_of_the_real_get_response(tanium: Api) -> None:
    doc = _doc(tanium, OPENIOC, **{"content-type": "application/xml", "type": "openioc"})
    full = tanium.data("GET", f"{TR}/intels/{doc['id']}")
    assert set(full) == set(corpus_json("intel-docs/get_intel_doc_raw_response.json"))
    assert full["contents"] == OPENIOC.decode()


def test_updated_doc_has_the_fields_of_the_real_update_response(tanium: Api) -> None:
    doc = _doc(tanium, OPENIOC, **{"content-type": "application/xml", "type": "openioc"})
    updated = tanium.data(
        "PUT", f"{TR}/intels/{doc['id']}", content=OPENIOC, headers={"type": "openioc"}
    )
    assert set(updated) == set(corpus_json("intel-docs/update_intel_docs_raw_response.json"))


def test_new_doc_defaults_match_the_spec(tanium: Api) -> None:
    doc = _doc(tanium, OPENIOC, **{"content-type": "application/xml", "type": "openioc"})
    assert doc["typeVersion"] == "1.0" and doc["revisionId"] == 1
    assert (doc["alertCount"], doc["unresolvedAlertCount"], doc["labelIds"]) == (0, 0, [])
    assert doc["md5"] == hashlib.md5(OPENIOC).hexdigest() and doc["size"] == len(OPENIOC)


# ------------------------------------------------------------------------ each format
def test_openioc_fields_come_from_root_id_and_descriptions(tanium: Api) -> None:
    doc = _doc(tanium, OPENIOC, **{"content-type": "application/xml", "type": "openioc"})
    assert (doc["type"], doc["intrinsicId"]) == ("openioc", "test1")
    assert doc["name"] == "VIRUS TEST"
    assert doc["description"] == "Generic indicator for the virus test."


def test_stix_fields_come_from_package_id_and_first_indicator(tanium: Api) -> None:
    doc = _doc(tanium, STIX_VALID, **{"content-type": "application/xml", "type": "stix"})
    assert (doc["type"], doc["intrinsicId"]) == ("stix", "example:Package-1")
    assert (doc["name"], doc["description"]) == ("Evil domain", "A domain used by the evil group.")


def test_valid_stix_1_2_package_is_schema_valid(tanium: Api) -> None:
    doc = _doc(tanium, STIX_VALID, **{"content-type": "application/xml", "type": "stix"})
    assert doc["isSchemaValid"] is True


def test_schema_invalid_stix_is_stored_with_is_schema_valid_false(tanium: Api) -> None:
    doc = _doc(tanium, STIX_INVALID, **{"content-type": "application/xml", "type": "stix"})
    assert doc["isSchemaValid"] is False


def test_yara_name_and_description_come_from_headers(tanium: Api) -> None:
    headers = {
        "content-type": "application/octet-stream",
        "type": "yara",
        "content-disposition": "attachment; filename=Evil strings.yara",
        "name": "Evil strings",
        "description": "Finds evil",
    }
    doc = _doc(tanium, YARA, **headers)
    assert (doc["type"], doc["name"], doc["description"]) == ("yara", "Evil strings", "Finds evil")
    assert doc["intrinsicId"] == "Evil strings.yara"


def test_yara_name_defaults_to_the_filename_stem(tanium: Api) -> None:
    headers = {"type": "yara", "content-disposition": "attachment; filename=evil.yar"}
    doc = _doc(tanium, YARA, **headers)
    assert doc["name"] == "evil"


def test_yara_intrinsic_id_switch_null(make_tanium: Any) -> None:
    api: Api = make_tanium(yara_intrinsic_id="null")
    doc = _doc(api, YARA, type="yara", **{"content-disposition": "attachment; filename=x.yara"})
    assert doc["intrinsicId"] is None


def test_empty_yara_is_rejected(tanium: Api) -> None:
    response = tanium.upload(tanium.source(), b"  \n", type="yara")
    assert response.status_code == 400 and "empty YARA" in response.json()["text"]


def test_yara_that_does_not_compile_is_rejected_with_the_reason(tanium: Api) -> None:
    response = tanium.upload(tanium.source(), b"rule broken { condition: }", type="yara")
    assert response.status_code == 400 and "invalid YARA" in response.json()["text"]


def test_yara_validation_flag_mode_stores_it_as_schema_invalid(make_tanium: Any) -> None:
    api: Api = make_tanium(yara_validation="flag")
    assert _doc(api, b"rule broken { condition: }", type="yara")["isSchemaValid"] is False


# ------------------------------------------------------------------------ dispatch
@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (STIX_VALID, {"content-type": "application/xml", "type": "stix"}, "stix"),
        (OPENIOC, {"content-type": "application/xml", "type": "openioc"}, "openioc"),
        (OPENIOC, {"content-type": "application/xml", "type": "ioc"}, "openioc"),
        (YARA, {"content-type": "application/octet-stream", "type": "yara"}, "yara"),
        (corpus_bytes(SIGNAL_FILE), {"content-type": "application/json"}, "tanium-signal"),
        (STIX_VALID, {"content-type": "application/xml"}, "stix"),
        (OPENIOC, {"content-type": "text/xml"}, "openioc"),
    ],
)
def test_dispatch_by_content_type_and_type_header(
    tanium: Api, body: bytes, headers: dict[str, str], expected: str
) -> None:
    assert _doc(tanium, body, **headers)["type"] == expected


@pytest.mark.parametrize(
    ("body", "disposition", "content_type", "expected"),
    [
        (OPENIOC, "attachment; filename=telemetry.ioc", "application/xml", "openioc"),
        (STIX_VALID, "attachment; filename=file.stix", "application/xml", "stix"),
        (YARA, "attachment; filename=file.yara", "application/xml", "yara"),
        (YARA, "filename = my rule.yar", "application/octet-stream", "yara"),
        (OPENIOC, 'attachment; filename="quoted.xml"', "application/octet-stream", "openioc"),
    ],
)
def test_dispatch_by_content_disposition_filename_extension(
    tanium: Api, body: bytes, disposition: str, content_type: str, expected: str
) -> None:
    headers = {"content-disposition": disposition, "content-type": content_type}
    response = tanium.post(TR + "/intels", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["type"] == expected


def test_sourceless_post_goes_to_the_default_source(tanium: Api) -> None:
    doc = tanium.data("POST", TR + "/intels", content=OPENIOC, headers={"type": "openioc"})
    sources = tanium.data("GET", TR + "/sources")
    assert [s["name"] for s in sources if s["id"] == doc["sourceId"]] == ["Manual"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("attachment; filename=x.yara", "x.yara"),
        ("filename=x.ioc", "x.ioc"),
        ("attachment; filename = x y.stix", "x y.stix"),
        ('attachment; filename="a;b.yara"', "a;b.yara"),
        ("attachment; filename*=UTF-8''na%C3%AFve.yara", "naïve.yara"),
        ("attachment", None),
    ],
)
def test_content_disposition_is_parsed_leniently(value: str, expected: str | None) -> None:
    assert parse_content_disposition(value) == expected


# ------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"<ioc><unclosed></ioc>", {"type": "openioc"}, "malformed XML"),
        (b"<stix:STIX_Package", {"type": "stix"}, "malformed XML"),
        (b"", {"type": "stix"}, "malformed XML"),
        (b'{"name": "x", "contents": ', {"content-type": "application/json"}, "malformed JSON"),
        (b"[1, 2]", {"content-type": "application/json"}, "JSON object"),
        (
            b'{"name": "x", "contents": "process.path"}',
            {"content-type": "application/json"},
            "invalid signal syntax",
        ),
        (
            b'{"name": "x", "contents": "process.path frobs x"}',
            {"content-type": "application/json"},
            "unknown condition",
        ),
        (
            b'{"name": "x", "contents": "(process.path is x"}',
            {"content-type": "application/json"},
            "missing ')'",
        ),
        (
            b'{"name": "x", "contents": "process.path is \'x"}',
            {"content-type": "application/json"},
            "unterminated",
        ),
        (b'{"contents": "process.path is x"}', {"content-type": "application/json"}, "'name'"),
        (b'{"name": "x", "contents": ""}', {"content-type": "application/json"}, "'contents'"),
        (
            b'{"name": "x", "contents": "a.b is c", "platforms": ["beos"]}',
            {"content-type": "application/json"},
            "unknown platform",
        ),
        (OPENIOC, {"type": "stix"}, "not a STIX"),
        (STIX_VALID, {"type": "openioc"}, "not an OpenIOC"),
        (b"<html/>", {"content-type": "application/xml"}, "unrecognized XML"),
        (OPENIOC, {"type": "pdf"}, "unsupported intel type"),
    ],
)
def test_invalid_documents_are_400_with_a_reason(
    tanium: Api, body: bytes, headers: dict[str, str], reason: str
) -> None:
    response = tanium.upload(tanium.source(), body, **headers)
    assert response.status_code == 400
    assert reason in response.json()["text"]
    assert response.json()["errors"][0]["description"] == response.json()["text"]


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("name", "Évil – “rule”".encode(), "not Latin-1"),
        ("description", b"line one\r\nline two", "CR or LF"),
        ("name", b"bell\x07", "control characters"),
        ("content-disposition", "attachment; filename=é.yara".encode(), "not Latin-1"),
    ],
)
def test_bad_text_headers_are_refused_with_400(
    tanium: Api, header: str, value: bytes, reason: str
) -> None:
    headers: dict[str, Any] = {"type": "yara", header: value}
    response = tanium.post(TR + "/intels", content=YARA, headers=headers)
    assert response.status_code == 400 and reason in response.json()["text"]


def test_latin1_header_is_accepted_and_decoded(tanium: Api) -> None:
    headers: dict[str, Any] = {"type": "yara", "name": "Café".encode("latin-1")}
    doc = tanium.data("POST", TR + "/intels", content=YARA, headers=headers)
    assert doc["name"] == "Café"


def test_utf8_header_passes_when_the_switch_is_off(make_tanium: Any) -> None:
    api: Api = make_tanium(reject_utf8_headers=False)
    headers: dict[str, Any] = {"type": "yara", "name": "Café".encode()}
    assert api.data("POST", TR + "/intels", content=YARA, headers=headers)["name"] == "CafÃ©"
