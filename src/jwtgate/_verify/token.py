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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._exceptions import MalformedToken

__all__ = ["UnframedToken", "UnverifiedToken", "parse_proof", "parse_token"]

_ACCEPTED_TYP = frozenset(("jwt", "at+jwt", "application/at+jwt"))


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """The decoded parts of a token whose signature has not been checked yet."""

    header: Mapping[str, Any]  # read-only: equal headers share one decoded view
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


# base64url onto the standard alphabet for a2b_base64, "." onto itself (the separator),
# every other byte onto "!", which a2b_base64 would silently skip: a "!" after
# translation means the token is not base64url segments.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."
_TO_STANDARD = bytes(
    c if c in _ALPHABET else ord("+") if c == ord("-") else ord("/") if c == ord("_") else ord("!")
    for c in range(256)
)
_PADDING = (b"", b"", b"==", b"=")  # By len % 4; a length of 1 mod 4 fails to decode.
# The last character of a canonical base64url segment leaves its unused bits zero:
# two unused bits (len % 4 == 3) or four (len % 4 == 2).
_CANONICAL_LAST = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
# The C scanner itself (not in the typeshed stubs): decode() adds two regex matches.
_scan: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]


def _b64decode(standard: bytes) -> bytes:
    # *standard* is a segment already translated to the standard alphabet and checked.
    return binascii.a2b_base64(standard + _PADDING[len(standard) % 4])


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
        try:
            obj, end = _scan(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            # Whitespace around the value (allowed) or something that is not JSON:
            # the full decoder tells which.
            obj = _decoder.decode(text)
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


# A token without dots is most often an opaque access token: the issuer issued it
# because the client asked for no audience (Auth0 without `audience`, Okta's org
# server), or the API is meant to introspect it (RFC 7662).
_OPAQUE = (
    "The token is not a JWS in compact serialization (no dots): an opaque access token? "
    "Ask the issuer for a JWT for this API (the audience/resource parameter), or "
    "configure token introspection."
)


def parse_token(token: str) -> UnverifiedToken:
    """Decode *token*; raises ``MalformedToken`` for anything that is not a plain JWS."""
    return _parse(token, _parse_header, _HEADERS)


def parse_proof(proof: str) -> UnverifiedToken:
    """Decode a DPoP proof (RFC 9449 §4.2) by the same strict rules as a token.

    Its header must carry ``typ: dpop+jwt``, a string ``alg`` and a ``jwk`` object;
    no ``crit``. Raises ``MalformedToken``; nothing here is verified.
    """
    return _parse(proof, _parse_proof_header, None)


def _parse(
    token: str,
    parse_header: Callable[[bytes], Mapping[str, Any]],
    memo: dict[bytes, Mapping[str, Any]] | None,
) -> UnverifiedToken:
    try:
        data = token.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("The token is not a JWS in compact serialization.") from None
    segments = data.split(b".")
    if len(segments) != 3 or not segments[0] or not segments[1]:
        if len(segments) == 5:
            raise MalformedToken("Encrypted tokens (JWE) are not accepted.")
        if len(segments) == 1 and memo is _HEADERS:  # A token, not a proof: say why.
            raise MalformedToken(_OPAQUE)
        raise MalformedToken("The token is not a JWS in compact serialization.")
    # One pass over the whole token: alphabet check and translation together.
    standard = data.translate(_TO_STANDARD)
    if b"!" in standard:
        raise MalformedToken("The token is not a JWS in compact serialization.")
    header_b64, payload_b64, signature_b64 = segments
    header_std, payload_std, signature_std = standard.split(b".")
    header = None if memo is None else memo.get(header_b64)
    try:
        if header is None:
            _canonical(header_b64)
            header = parse_header(header_std)
            if memo is not None:
                if len(memo) >= _HEADERS_MAX:
                    memo.clear()
                memo[header_b64] = header
        payload_bytes = _b64decode(payload_std)
        signature = _b64decode(signature_std)
    except binascii.Error:
        raise MalformedToken("The token is not valid base64url.") from None
    # Unused trailing bits set: another spelling of the same bytes. Refused in every
    # segment so that one token has one string form (ECDSA still has two valid
    # signatures: key deny lists on jti, never on the token string).
    last = _CANONICAL_LAST.get(len(payload_b64) % 4)
    if last is not None and payload_b64[-1] not in last:
        raise MalformedToken("The token is not valid base64url.")
    claims = _json_object(payload_bytes, "payload")
    if not signature:
        raise MalformedToken("The token has no signature.")
    last = _CANONICAL_LAST.get(len(signature_b64) % 4)
    if last is not None and signature_b64[-1] not in last:
        raise MalformedToken("The token is not valid base64url.")
    signing_input = data[: len(header_b64) + 1 + len(payload_b64)]
    return UnverifiedToken(header, claims, signing_input, signature)


def _canonical(segment: bytes) -> None:
    last = _CANONICAL_LAST.get(len(segment) % 4)
    if last is not None and segment[-1] not in last:
        raise MalformedToken("The token is not valid base64url.")


# Accepted headers by their encoded form: an issuer's tokens share a handful of headers
# (alg, kid, typ), so each is decoded and checked once. Read-only views, so that no
# caller can change what the next token with the same header is parsed into.
_HEADERS: dict[bytes, Mapping[str, Any]] = {}
_HEADERS_MAX = 256  # Past this (a flood of distinct headers) the memo starts over.


def _common_header(standard: bytes) -> dict[str, Any]:
    header = _json_object(_b64decode(standard), "header")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("The token's header has no algorithm.")
    if "crit" in header:
        # No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11);
        # this covers b64=false (RFC 7797) as well.
        raise MalformedToken("The token uses critical header extensions, which are not supported.")
    return header


def _parse_proof_header(standard: bytes) -> Mapping[str, Any]:
    header = _common_header(standard)
    typ = header.get("typ")
    # RFC 9449 §4.3 check 4: explicit typing keeps a proof from passing as any other JWT.
    if not isinstance(typ, str) or typ.lower() != "dpop+jwt":
        raise MalformedToken("The proof's type is not dpop+jwt.")
    if not isinstance(header.get("jwk"), dict):
        raise MalformedToken("The proof's header has no jwk object.")
    return MappingProxyType(header)


def _parse_header(standard: bytes) -> Mapping[str, Any]:
    header = _common_header(standard)
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
    return MappingProxyType(header)


class UnframedToken(Exception):
    """Bytes cut from an ``Authorization`` header by shape alone did not parse as a token.

    Raised by ``Authenticator.authenticate_cut`` (no event, no rejection): the caller
    parses the header by its full rules instead, which gives the right answer.
    """
