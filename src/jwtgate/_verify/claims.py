"""Claim validation (RFC 7519 §4.1, RFC 8725 §3.8-3.9): one small check per claim."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import (
    ExpiredToken,
    ImmatureToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    TokenTooOld,
)
from .pointer import compiled

__all__ = [
    "extract_scopes",
    "validate_access_token",
    "validate_aud",
    "validate_claims",
    "validate_lifetime",
]

#: RFC 9068 §2.2: the claims every JWT access token carries (``iat`` is checked as a number).
ACCESS_TOKEN_CLAIMS = ("sub", "client_id", "jti")
_MAX_INT = 2**63


def _numeric(claims: Mapping[str, Any], name: str) -> float | None:
    value: Any = claims.get(name)
    kind = type(value)  # Exact types: bool is an int in Python but not a JSON number.
    if kind is float or (kind is int and -_MAX_INT <= value <= _MAX_INT):
        return value  # type: ignore[no-any-return]
    if value is None and name not in claims:
        return None
    if kind is int:
        # JSON allows any integer; one past float range would overflow in the
        # arithmetic below (a 500, not a 401), and no real timestamp is that large.
        raise InvalidClaim(f"The '{name}' claim is out of range.", claim=name)
    raise InvalidClaim(f"The '{name}' claim is not a number.", claim=name)


def validate_aud(claims: Mapping[str, Any], audiences: frozenset[str]) -> None:
    """``aud`` (a string or a list of strings) must contain an accepted audience."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        if aud in audiences:
            return
    elif isinstance(aud, list):
        if all(isinstance(item, str) for item in aud) and not audiences.isdisjoint(aud):
            return
    elif aud is None:
        raise InvalidAudience("The token has no 'aud' claim.", claim="aud")
    raise InvalidAudience("The token is not intended for this audience.", claim="aud")


def validate_access_token(claims: Mapping[str, Any]) -> None:
    """RFC 9068 §2.2: ``sub``, ``client_id``, ``jti`` (strings) and ``iat`` must be present."""
    for name in ACCESS_TOKEN_CLAIMS:
        value = claims.get(name)
        if value is None:
            raise InvalidClaim(
                f"The token has no '{name}' claim.", claim=name, reason="missing_claim"
            )
        if not isinstance(value, str) or not value:
            raise InvalidClaim(f"The '{name}' claim is not a non-empty string.", claim=name)
    if _numeric(claims, "iat") is None:
        raise InvalidClaim("The token has no 'iat' claim.", claim="iat", reason="missing_claim")


def validate_lifetime(
    claims: Mapping[str, Any],
    now: float,
    leeway: float,
    max_lifetime: float | None,
    max_age: float | None,
) -> None:
    """``exp - iat`` at most *max_lifetime*, ``now - iat`` at most *max_age* (+ *leeway*)."""
    iat = _numeric(claims, "iat")
    if iat is None:
        raise InvalidClaim("The token has no 'iat' claim.", claim="iat", reason="missing_claim")
    exp = _numeric(claims, "exp")
    if max_lifetime is not None and exp is not None and exp - iat > max_lifetime:
        raise TokenTooOld("The token's lifetime exceeds the allowed maximum.", claim="exp")
    if max_age is not None and now - iat > max_age + leeway:
        raise TokenTooOld("The token was issued too long ago.", claim="iat")


def validate_claims(
    claims: Mapping[str, Any],
    *,
    now: float,
    leeway: float,
    issuer: str,
    audiences: frozenset[str] | None,
    required: Sequence[str] = (),
) -> None:
    """Run every claim check; raises the first ``InvalidClaim`` subclass that fails.

    One function on the hot path, one check per claim, in this order: ``exp`` (required,
    ahead of *now* minus *leeway*), ``nbf`` and ``iat`` (when present, not ahead of *now*
    plus *leeway*), ``iss`` (exactly *issuer*), ``aud`` (one of *audiences*, unless None),
    then every name in *required* present and not null.
    """
    exp = _numeric(claims, "exp")
    if exp is None:
        raise InvalidClaim("The token has no 'exp' claim.", claim="exp", reason="missing_claim")
    if now >= exp + leeway:
        raise ExpiredToken("The token has expired.", claim="exp")
    if "nbf" in claims and _numeric(claims, "nbf") > now + leeway:  # type: ignore[operator]
        raise ImmatureToken("The token is not valid yet.", claim="nbf")
    if "iat" in claims and _numeric(claims, "iat") > now + leeway:  # type: ignore[operator]
        raise ImmatureToken("The token was issued in the future.", claim="iat")
    if claims.get("iss") != issuer:
        raise InvalidIssuer("The token was not issued by the expected issuer.", claim="iss")
    if audiences is not None:
        aud = claims.get("aud")
        if not (isinstance(aud, str) and aud in audiences):  # The usual case, checked inline.
            validate_aud(claims, audiences)
    for name in required:
        if claims.get(name) is None:
            # The claim name comes from our settings, never from the token.
            raise InvalidClaim(
                f"The token has no '{name}' claim.", claim=name, reason="missing_claim"
            )


def extract_scopes(claims: Mapping[str, Any], names: Sequence[str]) -> frozenset[str]:
    """The union of the strings in the claims *names* (claim names or JSON Pointers).

    A value may be a space-delimited string, a list of strings, or an object (its keys
    count); other values and non-string members grant nothing.
    """
    return compiled(tuple(names))(claims)
