"""What indicators and observables become: keys, candidates, skip reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.render import convert, render_blocklist, render_intel
from controller.render.canonical import file_key, sco_id, value_key

SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def indicator(pattern: str, pattern_type: str = "stix", **kw: object) -> SourceObject:
    fields: dict[str, object] = {
        "standard_id": "indicator--5f1e4a57-2d0c-4f0e-8b4c-6f1d2e3a4b5c",
        "entity_type": "Indicator",
        "name": "an indicator",
        "pattern": pattern,
        "pattern_type": pattern_type,
    }
    fields.update(kw)
    return SourceObject.model_validate(fields)


def observable(entity_type: str, value: str | None = None, **kw: object) -> SourceObject:
    fields: dict[str, object] = {
        "standard_id": f"{entity_type.lower()}--0b9d2f3c-1111-4222-8333-444455556666",
        "entity_type": entity_type,
        "value": value,
    }
    fields.update(kw)
    return SourceObject.model_validate(fields)


def test_key_is_the_stix_deterministic_id_of_the_value() -> None:
    # uuid5(00abedb4-…, '{"value":"evil.example"}')
    assert value_key("Domain-Name", "evil.example") == sco_id(
        "domain-name", {"value": "evil.example"}
    )
    assert value_key("domain-name", "evil.example").startswith("domain-name--")


def test_same_domain_from_indicator_and_observable_is_one_key() -> None:
    from_pattern = convert(indicator("[domain-name:value = 'Evil.Example.']")).intel[0]
    from_observable = convert(observable("Domain-Name", "evil.example")).intel[0]
    assert from_pattern.key == from_observable.key == value_key("domain-name", "evil.example")
    assert from_pattern.payload == from_observable.payload
    assert render_intel(from_pattern).content == render_intel(from_observable).content


@pytest.mark.parametrize(
    "pattern",
    [
        f"[file:hashes.'SHA-256' = '{SHA256}']",
        f"[file:hashes.SHA256 = '{SHA256.upper()}']",
        f"[ file:hashes.'SHA-256'='{SHA256}' ]",
    ],
)
def test_hash_key_spellings_and_case_give_one_key(pattern: str) -> None:
    conversion = convert(indicator(pattern))
    key = file_key({"sha256": SHA256})
    assert [c.key for c in conversion.intel] == [key]
    assert [(f.key, f.hashes) for f in conversion.files] == [(key, {"sha256": SHA256})]


def test_hash_pattern_stays_off_the_blocklist_when_told() -> None:
    conversion = convert(
        indicator(f"[file:hashes.MD5 = '{MD5}']"), hash_patterns_to_blocklist=False
    )
    assert conversion.intel and not conversion.files


def test_file_observable_goes_to_the_blocklist_keyed_by_its_strongest_hash() -> None:
    hashes = {"MD5": MD5.upper(), "SHA-1": SHA1, "SHA-256": SHA256, "SSDEEP": "3:abc"}
    conversion = convert(observable("StixFile", "x.exe", hashes=hashes))
    (file,) = conversion.files
    assert not conversion.intel
    assert file.key == sco_id("file", {"hashes": {"SHA-256": SHA256}})
    assert file.hashes == {"md5": MD5, "sha1": SHA1, "sha256": SHA256}
    entry = render_blocklist(file, labels=("emotet", "OpenCTI", "opencti"))
    assert (entry.md5, entry.sha1, entry.sha256, entry.uploaded_hash) == (MD5, SHA1, SHA256, SHA256)
    assert entry.notes.startswith("emotet, OpenCTI [octi-tanium:v1 key=file--")


def test_hash_of_the_wrong_length_is_skipped_with_a_reason() -> None:
    conversion = convert(observable("StixFile", hashes={"SHA-256": MD5}))
    assert conversion.skip_reason is not None and "SHA-256" in conversion.skip_reason
    assert "64 hex digits" in conversion.skip_reason


def test_file_without_usable_hash_is_skipped() -> None:
    reason = convert(observable("Artifact", hashes={"SHA-512": "ab" * 64})).skip_reason
    assert reason == "Artifact has no MD5, SHA-1 or SHA-256 hash"


@pytest.mark.parametrize(
    ("entity_type", "value", "term"),
    [
        ("IPv4-Addr", "198.51.100.7", "PortItem/remoteIP"),
        ("IPv6-Addr", "2001:DB8::1", "PortItem/remoteIP"),
        ("Domain-Name", "evil.example", "Network/DNS"),
        ("Hostname", "host.evil.example", "Network/DNS"),
        ("Url", "HTTP://Evil.Example/Path", "UrlHistoryItem/URL"),
    ],
)
def test_network_observable_becomes_openioc(entity_type: str, value: str, term: str) -> None:
    (candidate,) = convert(observable(entity_type, value)).intel
    assert candidate.intel_type == "openioc"
    assert term in candidate.payload
    assert f'search="{term}"' in render_intel(candidate).content


def test_url_keeps_path_case_and_lowers_scheme_and_host() -> None:
    (candidate,) = convert(observable("Url", "HTTP://Evil.Example/Path")).intel
    assert candidate.name == "http://evil.example/Path"


@pytest.mark.parametrize("entity_type", ["Email-Addr", "Mutex", "Process", "Mac-Addr", "Text"])
def test_unsupported_observable_is_skipped_with_why(entity_type: str) -> None:
    reason = convert(observable(entity_type, "x")).skip_reason
    assert reason is not None
    assert reason.startswith(f"observable type {entity_type} not supported by Tanium: ")


def test_invalid_ip_observable_is_an_error() -> None:
    conversion = convert(observable("IPv4-Addr", "300.1.1.1"))
    assert conversion.skip_reason and [d.severity for d in conversion.diagnostics] == ["error"]


def test_cidr_observable_is_skipped() -> None:
    reason = convert(observable("IPv4-Addr", "10.0.0.0/8")).skip_reason
    assert reason is not None and "CIDR" in reason


def test_multi_value_or_pattern_is_one_document_keyed_by_the_indicator() -> None:
    obj = indicator("[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1']")
    (candidate,) = convert(obj).intel
    assert candidate.key == obj.standard_id
    content = render_intel(candidate).content
    assert 'operator="OR"' in content and "a.example" in content and "198.51.100.1" in content


def test_or_between_observations_converts_and_and_does_not() -> None:
    either = convert(indicator("[domain-name:value = 'a.example'] OR [url:value = 'http://b/']"))
    assert either.intel and either.skip_reason is None
    both = convert(indicator("[domain-name:value = 'a.example'] AND [url:value = 'http://b/']"))
    assert both.skip_reason is not None and "AND between observations" in both.skip_reason
    assert not both.intel and not both.files


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (f"[file:hashes.MD5 = '{MD5}'] FOLLOWEDBY [file:name = 'a']", "FOLLOWEDBY"),
        (f"[file:hashes.MD5 = '{MD5}'] WITHIN 60 SECONDS", "WITHIN 60 SECONDS"),
        (f"[file:hashes.MD5 = '{MD5}'] REPEATS 2 TIMES", "REPEATS 2 TIMES"),
        ("[url:value LIKE 'http://%']", "'LIKE'"),
        ("[url:value MATCHES '^http']", "'MATCHES'"),
        ("[file:size > 10]", "'>'"),
        ("[ipv4-addr:value != '1.2.3.4']", "'!='"),
        ("[ipv4-addr:value = '10.0.0.0/8']", "CIDR"),
        ("[process:pid = 4]", "process:pid has no OpenIOC term"),
    ],
)
def test_unfaithful_pattern_is_skipped_with_a_specific_reason(pattern: str, words: str) -> None:
    conversion = convert(indicator(pattern))
    assert conversion.skip_reason is not None and words in conversion.skip_reason
    assert not conversion.intel and not conversion.files
    assert [d.severity for d in conversion.diagnostics] == ["warning"]


def test_in_operator_becomes_or() -> None:
    (candidate,) = convert(indicator("[domain-name:value IN ('a.example', 'b.example')]")).intel
    assert candidate.payload.count('"term":"Network/DNS"') == 2


@pytest.mark.parametrize("pattern_type", ["sigma", "snort", "suricata", "pcre", "spl", "eql"])
def test_other_pattern_types_are_not_supported(pattern_type: str) -> None:
    reason = convert(indicator("anything", pattern_type)).skip_reason
    assert reason == f"pattern type '{pattern_type}' not supported by Tanium"


def test_signal_is_validated_and_rendered_as_compact_json() -> None:
    obj = indicator(
        "process.name is 'cmd.exe' AND process.command_line contains whoami",
        "tanium-signal",
        platforms=("Windows", "macOS", "iOS"),
    )
    (candidate,) = convert(obj).intel
    desired = render_intel(candidate)
    assert desired.platforms == ("mac", "windows")
    assert desired.content.startswith('{"id":"' + obj.standard_id + '","name":"an indicator"')


def test_invalid_signal_is_skipped_with_an_error() -> None:
    conversion = convert(indicator("process.name frobnicates x", "tanium-signal"))
    assert conversion.skip_reason is not None
    assert conversion.skip_reason.startswith("invalid Tanium Signal: ")
    assert [d.severity for d in conversion.diagnostics] == ["error"]


def test_empty_pattern_is_an_error_not_a_crash() -> None:
    conversion = convert(indicator("", "stix"))
    assert conversion.skip_reason == "indicator has no pattern"


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["stix", "yara", "tanium-signal", "sigma", None]),
    st.one_of(ANY_TEXT, st.builds(lambda s: f"[domain-name:value = '{s}']", ANY_TEXT)),
)
def test_convert_never_raises_on_indicator_content(pattern_type: str | None, pattern: str) -> None:
    conversion = convert(indicator(pattern, pattern_type or ""))
    assert (conversion.skip_reason is None) == bool(conversion.intel or conversion.files)
    for candidate in conversion.intel:
        render_intel(candidate).content.encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["IPv4-Addr", "IPv6-Addr", "Domain-Name", "Hostname", "Url", "StixFile"]),
    ANY_TEXT,
    st.dictionaries(st.sampled_from(["MD5", "SHA-1", "SHA256", "x"]), ANY_TEXT, max_size=3),
)
def test_convert_never_raises_on_observable_content(
    entity_type: str, value: str, hashes: dict[str, str]
) -> None:
    conversion = convert(observable(entity_type, value, hashes=hashes))
    assert (conversion.skip_reason is None) == bool(conversion.intel or conversion.files)
    for candidate in conversion.intel:
        render_intel(candidate).content.encode("utf-8")
    for file in conversion.files:
        render_blocklist(file, labels=())
