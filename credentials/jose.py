"""Compact JWS as used by VC-JWT: strict parsing, the header rules, signing and signature checks.

Nothing here trusts the token. Parsing returns an :class:`UnverifiedJWS` whose fields are named for what
they are until a signature check has passed. The algorithm used to verify always comes from the key,
never from the token (a token's ``alg`` only has to agree with it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from credentials import strict_json
from credentials.encoding import b64url_decode, b64url_encode
from credentials.errors import (
    BadSignature,
    HeaderNotAllowed,
    MalformedToken,
    UnsupportedAlgorithm,
)
from credentials.keys import PRIVATE_MEMBERS, VERIFY_ALGORITHMS, VerificationKey
from credentials.strict_json import DuplicateMember, object_without_duplicates, reject_constant

MAX_TOKEN_BYTES = 64 * 1024
"""Largest compact JWS accepted, checked before anything is decoded: the specification's own examples reach
22 KB; ours are about 4 KiB."""

# OB 3.0 allows alg, kid and typ; VC-JOSE-COSE adds cty "vc"; a jwk is allowed but only ever used to pick one of
# the keys the trusted issuer publishes (by its RFC 7638 thumbprint), never trusted by itself. Everything else
# (jku, x5u, x5c, crit, b64, zip, ...) is refused because it would let the token choose its own key or processing.
ALLOWED_HEADER_MEMBERS = frozenset({"alg", "kid", "typ", "cty", "jwk"})
OB3_TYP = "jwt"
VC_JOSE_TYPS = frozenset({"vc+jwt", "application/vc+jwt"})
MAX_KID_LENGTH = 256

Profile = Literal["ob3", "vc-jose-cose"]


class Signer(Protocol):
    """Anything that signs bytes with one fixed key and algorithm (a key file today, a KMS or HSM later)."""

    @property
    def kid(self) -> str: ...

    @property
    def alg(self) -> str: ...

    def sign(self, data: bytes) -> bytes:
        """Return the JWS signature (raw ``r||s`` for ECDSA) over ``data``."""
        ...


@dataclass(frozen=True, slots=True)
class UnverifiedJWS:
    """A compact JWS that has passed the format and header rules but whose signature is not checked."""

    unverified_header: dict[str, Any]
    unverified_claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    profile: Profile

    @property
    def alg(self) -> str:
        return str(self.unverified_header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.unverified_header.get("kid")
        return kid if isinstance(kid, str) else None


# One decoder for every token (json.loads with options builds a new one per call).
_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=object_without_duplicates, parse_constant=reject_constant)


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object strictly: UTF-8, no NaN/Infinity, no duplicate member names at any depth."""
    try:
        value = _STRICT_DECODER.decode(data.decode("utf-8"))
    except DuplicateMember as exc:
        if what == "header":
            raise HeaderNotAllowed(f"The header repeats the member '{exc.name}'.", member=exc.name) from exc
        raise MalformedToken(f"The {what} repeats the member '{exc.name}'.", segment=what) from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedToken(f"The {what} is not valid UTF-8 JSON.", segment=what) from exc
    if not isinstance(value, dict):
        raise MalformedToken(f"The {what} is not a JSON object.", segment=what)
    return value


def check_header(header: Mapping[str, Any]) -> Profile:
    """Apply the header rules and return which profile the token follows.

    Raises :class:`UnsupportedAlgorithm` for a missing, ``none``, HMAC or otherwise unlisted ``alg``, and
    :class:`HeaderNotAllowed` for any member or value outside the OB 3.0 / VC-JOSE-COSE profiles.
    """
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise UnsupportedAlgorithm("The header has no algorithm (alg).")
    if alg not in VERIFY_ALGORITHMS:
        # Covers "none" in any spelling and every HS*: an unsigned or symmetric token is never a credential.
        raise UnsupportedAlgorithm(f"The algorithm '{alg[:32]}' is not accepted.", alg=alg[:32])
    extra = sorted(set(header) - ALLOWED_HEADER_MEMBERS)
    if extra:
        raise HeaderNotAllowed(f"The header member '{extra[0][:32]}' is not allowed.", member=extra[0][:32])
    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH):
        raise HeaderNotAllowed("The key id (kid) must be a short non-empty string.", member="kid")
    if "jwk" in header and not isinstance(header["jwk"], dict):
        raise HeaderNotAllowed("The embedded key (jwk) must be a JSON object.", member="jwk")
    if "jwk" in header and PRIVATE_MEMBERS & set(header["jwk"]):
        # RFC 7515 §4.1.3: the public key. A token carrying a private key was made carelessly or to probe.
        raise HeaderNotAllowed("The embedded key (jwk) holds private key material.", member="jwk")
    # typ is optional in OB 3.0: a token without one follows its JWT profile.
    typ = header.get("typ", "JWT")
    if not isinstance(typ, str):
        raise HeaderNotAllowed("The token type (typ) must be JWT or vc+jwt.", member="typ")
    cty = header.get("cty")
    # Media types compare case-insensitively (RFC 7515 §4.1.9).
    typ = typ.lower()
    if "cty" in header and cty != "vc":
        # cty "JWT" would announce a nested token, which is never followed.
        raise HeaderNotAllowed("The content type (cty) is not allowed.", member="cty")
    if typ == OB3_TYP:
        return "ob3"
    if typ in VC_JOSE_TYPS:
        return "vc-jose-cose"
    raise HeaderNotAllowed(f"The token type '{typ[:32]}' is not accepted.", member="typ")


def parse_compact(token: str) -> UnverifiedJWS:
    """Parse a compact JWS and apply the format and header rules; the signature is not checked.

    Raises :class:`MalformedToken`, :class:`UnsupportedAlgorithm` or :class:`HeaderNotAllowed`.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedToken(f"The token is longer than {MAX_TOKEN_BYTES} bytes.", limit=MAX_TOKEN_BYTES)
    if not token.isascii():
        raise MalformedToken("The token contains characters outside base64url.")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(f"A compact JWS has three dot-separated parts; this has {len(parts)}.", parts=len(parts))
    header_segment, payload_segment, signature_segment = parts
    for segment, what in ((header_segment, "header"), (payload_segment, "payload")):
        if not segment:
            raise MalformedToken(f"The {what} is empty.", segment=what)
    # The whole compact form is checked before anything in it is interpreted.
    header_bytes = b64url_decode(header_segment, "header")
    payload_bytes = b64url_decode(payload_segment, "payload")
    signature = b64url_decode(signature_segment, "signature")
    header = _json_object(header_bytes, "header")
    profile = check_header(header)
    claims = _json_object(payload_bytes, "payload")
    return UnverifiedJWS(
        unverified_header=header,
        unverified_claims=claims,
        signing_input=f"{header_segment}.{payload_segment}".encode("ascii"),
        signature=signature,
        profile=profile,
    )


def verify_signature(jws: UnverifiedJWS, key: VerificationKey) -> None:
    """Check the signature with ``key`` and the key's own algorithm.

    Raises :class:`UnsupportedAlgorithm` when the token's ``alg`` is not the one bound to the key, and
    :class:`BadSignature` when the signature does not verify.
    """
    if jws.alg != key.alg:
        raise UnsupportedAlgorithm(
            f"The key '{key.kid}' signs with {key.alg}, but the token says {jws.alg}.",
            alg=jws.alg,
        )
    if not key.algorithm.verify(jws.signing_input, key.key, jws.signature):
        raise BadSignature(f"The signature does not verify with the key '{key.kid}'.", kid=key.kid)


def serialize_json(value: Mapping[str, Any]) -> bytes:
    """Return compact UTF-8 JSON, as signed into a JWS. Raises ``ValueError`` for NaN or infinity."""
    return strict_json.dumps(value)


def parse_payload(payload: bytes) -> dict[str, Any]:
    """Parse a JWS payload (its bytes, already base64url-decoded) as :func:`parse_compact` does: strict UTF-8
    JSON, one object. Raises :class:`MalformedToken`."""
    return _json_object(payload, "payload")


class CompactSigner:
    """Signs payloads as compact JWS with one key and profile; the header, the same for every token, is written
    and checked against the header rules once.

    ``profile`` ``"ob3"``: header exactly ``alg``, ``kid``, ``typ: JWT``; the payload as UTF-8 JSON.
    ``"vc-jose-cose"``: header ``alg``, ``kid``, ``typ: vc+jwt``, ``cty: vc``; the payload as pure-ASCII JSON
    whose base64url has no ``-`` or ``_`` (:func:`credentials.strict_json.dumps_base64_plain`), so that even a
    reader using plain base64 decodes it.
    """

    def __init__(self, signer: Signer, profile: Profile = "ob3") -> None:
        header: dict[str, Any] = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT"}
        if profile == "vc-jose-cose":
            header.update(typ="vc+jwt", cty="vc")
        if check_header(header) != profile:  # pragma: no cover - the header above is the profile's own
            raise AssertionError(f"the {profile} header reads as another profile")
        self.profile = profile
        self._signer = signer
        self._header_segment = b64url_encode(serialize_json(header))
        self._dumps = strict_json.dumps_base64_plain if profile == "vc-jose-cose" else serialize_json

    def sign(self, claims: Mapping[str, Any]) -> tuple[str, bytes]:
        """The compact JWS of ``claims`` and its payload bytes. Raises ``ValueError`` for NaN or infinity."""
        payload = self._dumps(claims)
        signing_input = self._header_segment + "." + b64url_encode(payload)
        signature = self._signer.sign(signing_input.encode("ascii"))
        return signing_input + "." + b64url_encode(signature), payload


def encode_compact(claims: Mapping[str, Any], signer: Signer, profile: Profile = "ob3") -> str:
    """Sign ``claims`` and return a compact JWS (the header and payload as :class:`CompactSigner` writes them)."""
    token, _ = CompactSigner(signer, profile).sign(claims)
    return token
