"""Every YARA file of the corpus (tests/corpus/) is accepted or rejected with a precise message."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.core.model import SourceObject
from controller.render import convert, prefetch, render_intel
from controller.render.check.yara_rules import _CACHE, check_yara, prefetch_yara, rule_names
from tests.corpus_files import CORPUS

YARA = CORPUS / "yara"
FILES = sorted(p for p in YARA.rglob("*") if p.suffix in (".yar", ".yara"))


def _indicator(path: Path, text: str | None = None) -> SourceObject:
    return SourceObject(
        standard_id="indicator--7a1c0c2e-5b7e-4d5c-9b0a-3f1e2d4c5b6a",
        entity_type="Indicator",
        name=path.name,
        pattern=path.read_text("utf-8") if text is None else text,
        pattern_type="yara",
    )


def test_corpus_has_yara_files() -> None:
    assert len(FILES) >= 10, f"expected the YARA corpus under {YARA}: restore tests/corpus from git"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_yara_file_is_accepted_or_rejected_naming_file_and_rule(path: Path) -> None:
    obj = _indicator(path)
    conversion = convert(obj)
    for diagnostic in conversion.diagnostics:
        assert diagnostic.key == obj.standard_id
        assert path.name in diagnostic.message
        assert "rule '" in diagnostic.message and "line " in diagnostic.message
    if conversion.skip_reason is None:
        (candidate,) = conversion.intel
        desired = render_intel(candidate)
        assert desired.content == obj.pattern  # the body is the rule, byte for byte
        assert desired.filename == f"{obj.standard_id}.yara"
    else:
        assert conversion.skip_reason.startswith(f"invalid YARA indicator '{path.name}'")


def test_always_false_condition_is_a_warning() -> None:
    conversion = convert(_indicator(YARA / "demisto-content-mit/test.yara"))
    assert conversion.skip_reason is None
    (warning,) = conversion.diagnostics
    assert warning.severity == "warning"
    assert "rule 'zeus_js', line 14: expression always false" in warning.message


def test_external_variable_gets_a_placeholder_and_a_warning() -> None:
    conversion = convert(_indicator(YARA / "signature-base/gen_fake_amsi_dll.yar"))
    assert conversion.skip_reason is None and conversion.intel
    (warning,) = conversion.diagnostics
    assert "rule 'SUSP_Fake_AMSI_DLL_Jun23_2', line 60" in warning.message
    assert "external variable 'filename'" in warning.message


def test_crlf_rule_is_sent_unchanged() -> None:
    path = YARA / "signature-base/mal_win_amadey_jun25.yar"
    text = path.read_bytes().decode("utf-8")
    assert "\r\n" in text
    (candidate,) = convert(_indicator(path, text)).intel
    assert render_intel(candidate).content == text


def test_commented_out_rules_are_not_rule_names() -> None:
    text = (YARA / "signature-base/apt_hatman.yar").read_text("utf-8")
    assert "hatman_filesize" not in rule_names(text)
    assert "hatman_setstatus" in rule_names(text)


def test_module_tanium_has_but_local_engine_lacks_is_a_warning() -> None:
    text = 'import "cuckoo"\nrule uses_cuckoo {\n  condition:\n    cuckoo.sync.mutex(/x/)\n}\n'
    conversion = convert(_indicator(Path("cuckoo.yar"), text))
    assert conversion.skip_reason is None and conversion.intel
    (warning,) = conversion.diagnostics
    assert warning.severity == "warning"
    assert "rule 'uses_cuckoo', line 4" in warning.message and "'cuckoo'" in warning.message


def test_module_tanium_lacks_is_an_error() -> None:
    text = 'import "console"\nrule logs { condition: console.log("x") }\n'
    conversion = convert(_indicator(Path("console.yar"), text))
    assert conversion.skip_reason is not None and "console" in conversion.skip_reason
    assert [d.severity for d in conversion.diagnostics] == ["error"]


def test_syntax_error_names_indicator_rule_and_line() -> None:
    text = "rule fine { condition: true }\n\nrule broken {\n  condition:\n    nope and\n}\n"
    conversion = convert(_indicator(Path("broken.yar"), text))
    assert conversion.skip_reason is not None
    (error,) = conversion.diagnostics
    assert error.severity == "error"
    assert error.message.startswith("invalid YARA indicator 'broken.yar': rule 'broken', line 5")


def test_rule_from_another_document_is_an_error() -> None:
    text = "rule needs_private { condition: PrikormkaDropper }"
    conversion = convert(_indicator(Path("x.yar"), text))
    assert conversion.skip_reason is not None
    assert 'undefined identifier "PrikormkaDropper"' in conversion.skip_reason


def test_batch_prefetch_gives_the_same_results_as_single_checks() -> None:
    texts = [p.read_text("utf-8") for p in FILES]
    texts += [f'rule r{i} {{ strings: $a = "x{i}" condition: $a }}' for i in range(200)]
    texts += ["rule bad { condition: undefined_thing }", "rule w { condition: 2 of ($*) }"]
    _CACHE.clear()
    single = {text: check_yara(text) for text in texts}
    _CACHE.clear()
    prefetch_yara(texts)
    assert {text: check_yara(text) for text in texts} == single


def test_prefetch_takes_source_objects() -> None:
    _CACHE.clear()
    prefetch([_indicator(p) for p in FILES])
    assert len(_CACHE) == len({p.read_text("utf-8") for p in FILES})
