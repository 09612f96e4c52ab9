"""TLP markings: the standard STIX 2.1 definitions and how a marking name is compared."""

from __future__ import annotations

# The STIX 2.1 standard TLP marking definitions (TLP 1.0 and TLP 2.0 ids).
STANDARD_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "TLP:CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "TLP:GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "TLP:AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "TLP:AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "TLP:RED",
    # OpenCTI / pycti's TLP:AMBER+STRICT (TLP 2.0 has no STIX 2.1 standard id for it)
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "TLP:AMBER+STRICT",
}
UNKNOWN_MARKING = "UNKNOWN:"
"""Prefix of a marking whose definition the input does not carry: a policy that restricts
markings never takes an object carrying one (fail closed)."""


def normalize_marking(name: str) -> str:
    """`TLP:WHITE` is TLP 2.0's `TLP:CLEAR`; names are upper-case."""
    upper = name.strip().upper()
    return "TLP:CLEAR" if upper == "TLP:WHITE" else upper
