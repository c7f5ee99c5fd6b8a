"""What ``jwtgate verify`` says about opaque (non-JWS) tokens: introspected, or no answer."""

from __future__ import annotations

import sys

from .._introspection_exceptions import IntrospectionUnavailable
from .._verify.authenticator import Authenticator
from .._verify.verifier import VerifiedToken

__all__ = ["IntrospectionUnavailable", "introspection_failure", "verified_lines"]


def introspection_failure(
    authenticator: Authenticator, exc: IntrospectionUnavailable, code: int
) -> int:
    """Say on stderr why no introspection answer came (the endpoint's problem, never the
    token's); returns *code*."""
    introspector = authenticator.introspector
    error = introspector.client.last_error if introspector is not None else None
    print(f"FAILED introspection: no answer from the endpoint: {error or exc.description}",
          file=sys.stderr)  # fmt: skip
    return code


def verified_lines(authenticator: Authenticator, verified: VerifiedToken, exp: str) -> str:
    """``verify``'s answer: what vouched for the token (a signature, or introspection),
    then its subject, scopes and *exp* (already formatted)."""
    details = (
        f"\nsub: {verified.subject!r}\nscopes: {' '.join(sorted(verified.scopes)) or '(none)'}"
        f"\nexp: {exp}"
    )
    if verified.header:  # Only a JWS has one.
        header = verified.header
        return (
            f"OK: signature ({header.get('alg')}, kid={header.get('kid')!r}) "
            f"and claims verified for issuer {verified.issuer!r}" + details
        )
    introspector = authenticator.introspector
    endpoint = introspector.client.endpoint if introspector is not None else None
    return (
        f"OK: opaque token, active per introspection at {endpoint}, "
        f"claims checked for issuer {verified.issuer!r}" + details
    )
