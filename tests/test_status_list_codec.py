"""The Bitstring Status List codec (``credentials.status_list``) against vectors built independently in the test
with the standard library only (bytearray, gzip, base64), and the issuer's published list decoded by hand.

W3C Bitstring Status List v1.0: ``encodedList`` = multibase ``u`` + unpadded base64url of the GZIP-compressed
bitstring, at least 131,072 entries, index 0 = the left-most (most significant) bit of the first byte.
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials import status_list
from credentials.status_list import StatusListError
from tests.conftest import ISSUER_URL, ProviderFixture, issue

VECTOR = Path(__file__).parent / "vectors" / "status_list_vector.json"
MIN_BITS = 131_072


# --------------------------------------------------------------------------------------------------------------
# independent helpers (standard library only; nothing from the project)


def bits_by_hand(length: int, indexes: list[int]) -> bytes:
    """A bitstring of ``length`` bits with ``indexes`` set; index 0 is the most significant bit of byte 0."""
    raw = bytearray(length // 8)
    for index in indexes:
        raw[index // 8] |= 1 << (7 - index % 8)
    return bytes(raw)


def encode_by_hand(raw: bytes, **gzip_options: Any) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, **gzip_options)).decode("ascii").rstrip("=")


def decode_by_hand(encoded: str) -> bytes:
    assert encoded.startswith("u"), encoded[:10]
    body = encoded[1:]
    assert "=" not in body, "encodedList must be unpadded base64url"
    assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), "not base64url"
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def set_indexes_by_hand(raw: bytes) -> list[int]:
    return [byte * 8 + bit for byte, value in enumerate(raw) if value for bit in range(8) if value & (0x80 >> bit)]


def payload_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return result


def path_of(url: str) -> str:
    assert url.startswith(ISSUER_URL + "/"), url
    return url[len(ISSUER_URL) :]


def gzip_member_with_name(raw: bytes, name: bytes, mtime: int) -> bytes:
    """A GZIP member written field by field (RFC 1952) with FNAME set, as other implementations may write it."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(raw) + compressor.flush()
    header = b"\x1f\x8b\x08" + bytes([0x08]) + struct.pack("<I", mtime) + b"\x00\x03" + name + b"\x00"
    trailer = struct.pack("<II", zlib.crc32(raw) & 0xFFFFFFFF, len(raw) & 0xFFFFFFFF)
    return header + deflated + trailer


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# --------------------------------------------------------------------------------------------------------------
# the stored vector


def test_stored_vector_is_self_consistent() -> None:
    """The vector file's hand-checkable bytes agree with its indexes (so the file itself is not the code's echo)."""
    vector = json.loads(VECTOR.read_text("utf-8"))
    raw = decode_by_hand(vector["encodedList"])
    assert len(raw) * 8 == vector["length"] == MIN_BITS
    assert set_indexes_by_hand(raw) == vector["setIndexes"] == [0, 7, 8, 9, 1000, 65535, 65536, 131071]
    # 0 and 7 -> 1000 0001; 8 and 9 -> 1100 0000; 1000 -> byte 125 bit 0; 131071 -> last bit of the last byte
    assert raw[:2].hex() == vector["firstBytesHex"] == "81c0"
    assert raw[125:126].hex() == vector["byte125Hex"] == "80"
    assert raw[-1:].hex() == vector["lastByteHex"] == "01"


def test_stored_vector_decodes_with_the_codec() -> None:
    vector = json.loads(VECTOR.read_text("utf-8"))
    decoded = status_list.decode(vector["encodedList"])
    assert decoded == bits_by_hand(vector["length"], vector["setIndexes"])
    status_list.check_length(decoded)  # exactly the minimum is enough
    wanted = set(vector["setIndexes"])
    for index in sorted(wanted | {1, 6, 10, 999, 1001, 65534, 65537, 131070}):
        assert status_list.bit(decoded, index) is (index in wanted), index


def test_all_zero_minimum_list_reference_string() -> None:
    """A widely published all-zero 131,072-entry encodedList (gzip with an empty header, level 9)."""
    encoded = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    assert decode_by_hand(encoded) == bytes(16384)
    decoded = status_list.decode(encoded)
    assert decoded == bytes(16384)
    assert not any(status_list.bit(decoded, index) for index in (0, 1, 8, 65536, 131071))


# --------------------------------------------------------------------------------------------------------------
# vectors built in the test


def test_hand_built_vector_bits_0_7_8_and_last() -> None:
    raw = bits_by_hand(MIN_BITS, [0, 7, 8, 131071])
    assert raw[0] == 0b1000_0001 and raw[1] == 0b1000_0000 and raw[-1] == 0b0000_0001
    decoded = status_list.decode(encode_by_hand(raw, compresslevel=9, mtime=0))
    assert decoded == raw
    assert [index for index in range(MIN_BITS) if status_list.bit(decoded, index)] == [0, 7, 8, 131071]


def test_codec_output_decodes_by_hand_to_the_same_bits() -> None:
    indexes = [0, 3, 8, 15, 16, 4242, 99_999, 131_071]
    bitstring = status_list.set_bits(status_list.new_bitstring(), indexes)
    encoded = status_list.encode(bitstring)
    assert encoded.startswith("u") and "=" not in encoded
    raw = decode_by_hand(encoded)
    assert raw == bits_by_hand(MIN_BITS, indexes)
    assert set_indexes_by_hand(raw) == indexes
    # deterministic: no timestamp in the gzip header (bytes 4..7 are MTIME)
    assert base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))[4:8] == b"\x00\x00\x00\x00"
    assert status_list.encode(bitstring) == encoded


def test_larger_list_round_trips() -> None:
    length = 8 * MIN_BITS
    indexes = [0, MIN_BITS, length - 1]
    raw = bits_by_hand(length, indexes)
    decoded = status_list.decode(encode_by_hand(raw, compresslevel=1))
    assert decoded == raw
    assert [status_list.bit(decoded, index) for index in (0, 1, MIN_BITS, length - 2, length - 1)] == [
        True,
        False,
        True,
        False,
        True,
    ]


def test_gzip_written_by_another_implementation_with_a_file_name() -> None:
    raw = bits_by_hand(MIN_BITS, [5, 131_000])
    member = gzip_member_with_name(raw, b"status.bin", mtime=1_764_230_400)
    assert gzip.decompress(member) == raw  # the hand-made member is sound
    assert status_list.decode("u" + b64u(member)) == raw


def test_new_bitstring_refuses_short_or_ragged_lengths() -> None:
    assert len(status_list.new_bitstring()) == 16384
    with pytest.raises(ValueError):
        status_list.new_bitstring(MIN_BITS - 8)
    with pytest.raises(ValueError):
        status_list.new_bitstring(MIN_BITS + 4)


# --------------------------------------------------------------------------------------------------------------
# errors: length, range, encoding, bombs


def test_length_error_below_131072_entries() -> None:
    short = status_list.decode(encode_by_hand(bytes(16383)))
    assert len(short) == 16383
    with pytest.raises(StatusListError) as caught:
        status_list.check_length(short)
    assert caught.value.spec_code == "STATUS_LIST_LENGTH_ERROR"
    assert caught.value.code == "status_unavailable"
    assert "131064" in caught.value.message and "131072" in caught.value.message
    status_list.check_length(bytes(16384))


@pytest.mark.parametrize("index", [-1, MIN_BITS, MIN_BITS + 7, 10**12])
def test_range_error(index: int) -> None:
    raw = bits_by_hand(MIN_BITS, [MIN_BITS - 1])
    with pytest.raises(StatusListError) as caught:
        status_list.bit(raw, index)
    assert caught.value.spec_code == "STATUS_RANGE_ERROR"
    assert str(index) in caught.value.message


def test_last_index_is_in_range() -> None:
    raw = bits_by_hand(MIN_BITS, [MIN_BITS - 1])
    assert status_list.bit(raw, MIN_BITS - 1) is True
    assert status_list.bit(raw, MIN_BITS - 2) is False


@pytest.mark.parametrize(
    ("encoded", "fragment"),
    [
        (None, "must start with 'u'"),
        (12345, "must start with 'u'"),
        ("", "must start with 'u'"),
        ("z" + b64u(gzip.compress(bytes(16384), mtime=0)), "must start with 'u'"),  # base58btc multibase: not ours
        ("u" + b64u(zlib.compress(bytes(16384))), "not valid GZIP"),  # zlib container, not gzip
        ("u" + b64u(bytes(40)), "not valid GZIP"),
        ("u" + b64u(gzip.compress(bytes(16384), mtime=0)[:-12]), "truncated"),
        ("u", "truncated"),
    ],
)
def test_undecodable_lists_are_refused(encoded: object, fragment: str) -> None:
    with pytest.raises(StatusListError) as caught:
        status_list.decode(encoded)
    assert fragment in caught.value.message
    assert caught.value.code == "status_unavailable"


def test_gzip_bomb_is_refused_with_bounded_memory() -> None:
    bomb = gzip.compress(bytes(256 * 1024 * 1024), compresslevel=9)  # 256 MiB of zeros in about 250 KiB
    assert len(bomb) < 300 * 1024
    encoded = "u" + b64u(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(StatusListError) as caught:
            status_list.decode(encoded)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.message == f"The status list inflates beyond {status_list.MAX_DECODED_BYTES} bytes; refused."
    assert peak < 8 * 1024 * 1024, f"inflating a bomb used {peak} bytes"


def test_inflate_limit_is_exact() -> None:
    encoded = encode_by_hand(bytes(16384))
    assert len(status_list.decode(encoded, max_bytes=16384)) == 16384
    with pytest.raises(StatusListError, match="inflates beyond 16383 bytes"):
        status_list.decode(encoded, max_bytes=16383)
    largest = encode_by_hand(bytes(status_list.MAX_DECODED_BYTES))
    assert len(status_list.decode(largest)) == status_list.MAX_DECODED_BYTES
    with pytest.raises(StatusListError, match="inflates beyond"):
        status_list.decode(encode_by_hand(bytes(status_list.MAX_DECODED_BYTES + 1)))


# --------------------------------------------------------------------------------------------------------------
# the issuer's published list, decoded independently


def fetch_list(issuer: TestClient, url: str) -> tuple[dict[str, Any], bytes]:
    response = issuer.get(path_of(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vc+jwt")
    payload = payload_of(response.text)
    return payload, decode_by_hand(payload["credentialSubject"]["encodedList"])


def test_published_list_decodes_by_hand(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = [
        issue(issuer, provider, achievement, recipient={"name": f"Osoba {n}", "email": f"o{n}@example.org"})
        for n in range(4)
    ]
    entries = [payload_of(item["jwt"])["credentialStatus"] for item in issued]
    url = entries[0]["statusListCredential"]
    assert url == f"{ISSUER_URL}/status/{provider.slug}/1"
    assert {entry["statusListCredential"] for entry in entries} == {url}

    payload, raw = fetch_list(issuer, url)
    assert len(raw) >= 16384
    assert not any(raw), "nothing is revoked yet"
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["id"] == url and payload["iss"] == provider.issuer_id
    assert payload["credentialSubject"]["type"] == "BitstringStatusList"
    assert payload["credentialSubject"]["statusPurpose"] == "revocation"

    revoked = [issued[1], issued[3]]
    for item in revoked:
        url_revoke = path_of(item["links"]["self"]) + "/revoke"
        response = issuer.post(url_revoke, json={"reason": "test"}, headers=provider.headers)
        assert response.status_code == 200, response.text
    _, raw = fetch_list(issuer, url)
    assert len(raw) >= 16384
    revoked_indexes = sorted(int(entries[n]["statusListIndex"]) for n in (1, 3))
    assert set_indexes_by_hand(raw) == revoked_indexes
    for n in (0, 2):
        index = int(entries[n]["statusListIndex"])
        assert not raw[index // 8] & (0x80 >> (index % 8))
