"""The JSON signed into every credential: written fast, but as the standard library's strict compact form would
write it, and read back before anything is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.ob3 import jwt_claims_for
from credentials.strict_json import dumps
from issuer.errors import InvalidInput
from issuer.issuance import _read_back


def standard(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Łukasz Żółć", "uk": "Оксана Бондаренко", "emoji": "🎓", "quote": 'a "b" \\ c', "tab": "a\tb\n"},
        {"control": "\x00\x1f\x7f", "separators": "\u2028\u2029", "slash": "</script>", "empty": ""},
        {"numbers": [0, -1, 2**53, 1.5, 0.1, 12345.678], "flags": [True, False], "nested": [[{"a": []}]]},
        {"nothing": None, "text mentioning null": "null"},
        ["a", ("tuple", 1)],
    ],
)
def test_written_as_the_standard_library_writes_it(value: Any) -> None:
    assert dumps(value) == standard(value)


def test_a_number_with_an_exponent_reads_back_the_same() -> None:
    """The one difference: 1e-07 is spelled 1e-7, and 1e+16 1e16 (the same numbers, to any JSON reader)."""
    value = {"numbers": [1e-7, 1e16, 6.02e23, -2.5e-300]}
    assert json.loads(dumps(value)) == value


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused_not_written_as_null(number: float) -> None:
    with pytest.raises(ValueError):
        dumps({"score": number})
    with pytest.raises(ValueError):
        dumps({"nested": [{"score": number}], "label": "null"})


def test_what_the_standard_library_refuses_stays_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"when": datetime(2026, 1, 1, tzinfo=UTC)})
    with pytest.raises(TypeError):
        dumps({"what": object()})


def test_a_member_name_written_twice_never_gets_signed() -> None:
    """A key that is not a string may come out as the same name as another (1 and "1"): what the standard library
    then writes reads back differently, and the strict parse refuses it."""
    document: dict[Any, Any] = {"a": {1: "one", "1": "uno"}}
    payload = dumps(document)
    assert payload == b'{"a":{"1":"one","1":"uno"}}'
    with pytest.raises(InvalidInput) as refused:
        _read_back(document, payload, "ob3", "rows[4]")
    assert refused.value.fields == [{"field": "rows[4]", "message": "The payload repeats the member '1'."}]


def test_a_payload_that_reads_back_as_signed_passes() -> None:
    document: dict[str, Any] = {
        "id": "urn:uuid:0b5e7f4c-3c1a-4d1e-9f57-2a8e8c1d6b11",
        "issuer": {"id": "https://issuer.example/providers/p"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:uuid:6a4b1c2d-0e9f-4a8b-b7c6-d5e4f3a2b1c0", "name": "Zofia"},
    }
    document.update(jwt_claims_for(document))
    _read_back(document, dumps(document), "ob3", "")
