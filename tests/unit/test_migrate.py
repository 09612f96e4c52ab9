"""Which of the connector's documents a migration replaces: only those holding nothing but
what octi-tanium now holds."""

from __future__ import annotations

from controller.core.diff.migrate import _Desired, xml_values
from controller.core.model import ActualIntel, TaniumId

IOC = (
    "<ioc><definition><Indicator><IndicatorItem>"
    '<Content type="IP">{}</Content></IndicatorItem>{}</Indicator></definition></ioc>'
)


class _FakeDesired:
    def __init__(self, intel: dict[str, object]) -> None:
        self.intel = intel


def doc(content: str, intel_type: str = "openioc") -> ActualIntel:
    return ActualIntel(id=TaniumId(9), intel_type=intel_type, content=content)


def test_xml_values_are_the_indicator_values_lower_cased() -> None:
    assert xml_values(IOC.format("198.51.100.1", "<Content>EXAMPLE.com</Content>")) == {
        "198.51.100.1",
        "example.com",
    }


def index(**contents: tuple[str, str]) -> _Desired:
    from controller.core.model import DesiredIntel

    intel = {
        key: DesiredIntel(
            key=key, intel_type=kind, name=key, description="", content=body, md5="", digest=""
        )
        for key, (kind, body) in contents.items()
    }
    return _Desired(_FakeDesired(intel))  # type: ignore[arg-type]


def test_a_document_holding_one_undesired_value_is_left_alone() -> None:
    desired = index(a=("openioc", IOC.format("198.51.100.1", "")))
    assert desired.match(doc(IOC.format("198.51.100.1", ""))) == "a"
    mixed = IOC.format("198.51.100.1", "<Content>203.0.113.9</Content>")
    assert desired.match(doc(mixed)) is None


def test_yara_and_signals_match_on_their_content_only() -> None:
    rule = "rule x {\r\n condition: true \r\n}"
    signal = '{"contents": "process.name contains \'x\'"}'
    desired = index(y=("yara", rule.replace("\r\n", "\n")), s=("tanium-signal", signal))
    assert desired.match(doc(rule, "yara")) == "y"
    assert desired.match(doc("rule other { condition: true }", "yara")) is None
    assert desired.match(doc(signal, "tanium-signal")) == "s"
    assert desired.match(doc('{"contents": "other"}', "tanium-signal")) is None
