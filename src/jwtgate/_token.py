"""Parsing a JWS in compact serialization, strictly and without trusting it.

Nothing here verifies anything: it turns ``header.payload.signature`` into
decoded parts, refusing every shape RFC 7515/7519 and RFC 8725 say a verifier
must not accept (padding, non-base64url bytes, JWE, duplicate JSON members,
non-finite numbers, ``crit``).
"""

from __future__ import annotations

import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ._exceptions import MalformedToken

__all__ = ["UnverifiedToken", "parse_token"]

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ACCEPTED_TYP = frozenset(("jwt", "at+jwt", "application/at+jwt"))


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """The decoded parts of a token whose signature has not been checked yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        """The header's ``alg`` (a string, checked by ``parse_token``)."""
        alg: str = self.header["alg"]
        return alg

    @property
    def kid(self) -> str | None:
        """The header's ``kid``, or None."""
        return self.header.get("kid")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 7515 §4 and RFC 7519 §4 allow "reject, or keep the last duplicate";
    # parsers disagree on which one wins, so we reject rather than guess.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_decoder = json.JSONDecoder(
    object_pairs_hook=_unique_members, parse_float=_finite_float, parse_constant=_no_constants
)


_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")  # By len % 4; a length of 1 mod 4 fails to decode.
# The last character of a canonical base64url segment leaves its unused bits zero:
# two unused bits (len % 4 == 3) or four (len % 4 == 2).
_CANONICAL_LAST = {
    2: frozenset("AQgw"),
    3: frozenset("AEIMQUYcgkosw048"),
}


def _b64decode(segment: str) -> bytes:
    # The regex above already restricted the alphabet, so padding is all that is missing.
    data = segment.encode("ascii").translate(_URLSAFE_TO_STANDARD)
    return binascii.a2b_base64(data + _PADDING[len(segment) % 4])


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        obj = _decoder.decode(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError.
        raise MalformedToken(f"The token's {part} is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise MalformedToken(f"The token's {part} is not a JSON object.")
    if b"\\u" in data and not _is_unicode(obj):
        # A lone surrogate escape ("\ud800") decodes to a str that cannot be encoded
        # again: the application would crash rendering the claim (RFC 8259 §8.2).
        raise MalformedToken(f"The token's {part} is not valid JSON.")
    return obj


def _is_unicode(obj: dict[str, Any]) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def parse_token(token: str) -> UnverifiedToken:
    """Decode *token*; raises ``MalformedToken`` for anything that is not a plain JWS."""
    if _COMPACT_JWS.fullmatch(token) is None:
        if token.count(".") == 4:
            raise MalformedToken("Encrypted tokens (JWE) are not accepted.")
        raise MalformedToken("The token is not a JWS in compact serialization.")
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header_bytes = _b64decode(header_b64)
        payload_bytes = _b64decode(payload_b64)
        signature = _b64decode(signature_b64)
    except binascii.Error:
        raise MalformedToken("The token is not valid base64url.") from None
    header = _json_object(header_bytes, "header")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("The token's header has no algorithm.")
    if "crit" in header:
        # No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11);
        # this covers b64=false (RFC 7797) as well.
        raise MalformedToken("The token uses critical header extensions, which are not supported.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise MalformedToken("The token's key id is not a string.")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP):
        raise MalformedToken("The token's type is not a JWT access token.")
    cty = header.get("cty")
    if cty is not None:
        # RFC 8725 §2.8: nested tokens are a source of confusion; none is expected here.
        raise MalformedToken("Nested or content-typed tokens are not accepted.")
    claims = _json_object(payload_bytes, "payload")
    if not signature:
        raise MalformedToken("The token has no signature.")
    last = _CANONICAL_LAST.get(len(signature_b64) % 4)
    if last is not None and signature_b64[-1] not in last:
        # Unused trailing bits set: another spelling of the same signature. Refused so that
        # one signature has one string form (ECDSA still has two valid signatures: key deny
        # lists on jti, never on the token string).
        raise MalformedToken("The token is not valid base64url.")
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return UnverifiedToken(header, claims, signing_input, signature)
