"""The fast writers of the renderer give exactly what the reference implementations give.

The OpenIOC document is written as text (lxml built it before, ~35 % of building the desired
state) and uuid5 ids are computed without UUID objects; both must stay byte-identical, or
every owned document would be updated after an upgrade.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.render import openioc
from controller.render.canonical import SCO_NAMESPACE, uuid5_text

ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x10FFFF), max_size=40
)


@given(name=ANY_TEXT, namespace=st.uuids())
def test_uuid5_text_is_uuid5(name: str, namespace: uuid.UUID) -> None:
    assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))
    assert uuid5_text(SCO_NAMESPACE, name) == str(uuid.uuid5(SCO_NAMESPACE, name))


TERMS = st.builds(
    openioc.term,
    st.sampled_from(["PortItem/remoteIP", "Network/DNS", "FileItem/Md5sum", 'a"b&c<d>/e\tf']),
    st.sampled_from(["IP", "string", "md5"]),
    ANY_TEXT,
    st.sampled_from(["is", "contains", "x\n<y>"]),
)
TREES = st.recursive(
    TERMS,
    lambda inner: st.builds(
        lambda op, items: {"op": op, "items": items},
        st.sampled_from(["AND", "OR"]),
        st.lists(inner, max_size=3),
    ),
    max_leaves=6,
)


def _lxml_or_error(key: str, name: str, description: str, payload: str) -> str | type:
    try:
        return openioc.render_openioc_lxml(key, name, description, payload)
    except ValueError:
        return ValueError


@settings(max_examples=300)
@given(key=ANY_TEXT, name=ANY_TEXT, description=ANY_TEXT, tree=TREES)
def test_openioc_text_writer_is_byte_identical_to_lxml(
    key: str, name: str, description: str, tree: openioc.Tree
) -> None:
    payload = openioc.payload_of(tree)
    expected = _lxml_or_error(key, name, description, payload)
    if expected is ValueError:  # content XML cannot carry fails as it always did
        with pytest.raises(ValueError):
            openioc.render_openioc(key, name, description, payload)
        return
    assert openioc.render_openioc(key, name, description, payload) == expected


def test_openioc_of_a_typical_indicator_is_byte_identical_to_lxml() -> None:
    tree = openioc.node(
        "AND",
        [
            openioc.term("PortItem/remoteIP", "IP", "10.0.0.1"),
            openioc.term("Network/DNS", "string", "evil & <co>.example"),
        ],
    )
    payload = openioc.payload_of(tree)
    args = ("indicator--1", "name 'x' \"y\"", "desc [octi-tanium:v1 key=k digest=0]", payload)
    assert openioc.render_openioc(*args) == openioc.render_openioc_lxml(*args)


@given(
    st.one_of(
        st.ip_addresses(v=4).map(str),
        st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){3}(/[0-9]{1,2})?\Z"),
        st.text(alphabet="0123456789./ \n", max_size=20),
    )
)
def test_the_plain_ipv4_fast_path_agrees_with_ipaddress(text: str) -> None:
    import ipaddress

    from controller.render.canonical import canonical_ip

    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
        expected: str | None = None
        if network.version == 4:
            whole = network.prefixlen == network.max_prefixlen
            expected = str(network.network_address) if whole else str(network)
    except ValueError:
        expected = None
    assert canonical_ip(text, 4) == expected
