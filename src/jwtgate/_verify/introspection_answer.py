"""Judging an introspection answer (RFC 7662 §2.2): I/O-free, one small check per member.

An answer becomes the same ``VerifiedToken`` a JWT would: its members are the claims
(``active`` dropped, ``iss`` filled with the issuer when the server leaves it out), so
scope, role and step-up rules read them exactly as a JWT's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .._config.settings import Settings
from .._exceptions import (
    ExpiredToken,
    ImmatureToken,
    InvalidClaim,
    InvalidIssuer,
    InvalidToken,
)
from .._keys.fetch import FetchError, Response
from .claims import validate_aud, validate_lifetime
from .pointer import compiled
from .rules import check_rules, compile_rules
from .tenants import IssuerTemplate
from .verifier import VerifiedToken, accepted_audiences

__all__ = ["AnswerRules", "CredentialsRefused", "read_answer"]

_NO_HEADER: Mapping[str, Any] = MappingProxyType({})


class CredentialsRefused(FetchError):
    """The endpoint refused this API's own client credentials (HTTP 401/403): misconfigured."""


def read_answer(response: Response, url: str) -> dict[str, Any]:
    """The JSON object of a ``200`` answer; raises ``FetchError`` for anything else."""
    if response.status_code in (401, 403):
        raise CredentialsRefused(f"{url} answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise FetchError(f"{url} answered HTTP {response.status_code}")
    try:
        answer = json.loads(response.content)
    except (ValueError, RecursionError):
        raise FetchError(f"{url} answered something that is not JSON") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
        # RFC 7662 §2.2: "active" is REQUIRED and a boolean; anything else is a broken server.
        raise FetchError(f"{url} answered without a boolean 'active'")
    return answer


def _number(answer: Mapping[str, Any], name: str) -> float | None:
    value = answer.get(name)
    if value is None:
        return None
    # Exact types (a bool is no JSON number); the range check first: a huge int has no float.
    if type(value) not in (int, float) or not -(2**53) <= value <= 2**53 or math.isnan(value):
        raise InvalidClaim(f"The '{name}' member is not a number.", claim=name)
    return float(value)


class AnswerRules:
    """The checks of one ``Settings`` on introspection answers (RFC 7662 §2.2, §4)."""

    def __init__(self, settings: Settings) -> None:
        # The same choices as ``TokenVerifier``: audiences (with the resource), scope and
        # role claims (JSON Pointers too), claim rules, a multi-tenant issuer template.
        self._issuer = settings.issuer
        self._template = IssuerTemplate.of(settings.issuer)
        self._audiences = (
            frozenset(accepted_audiences(settings)) if settings.verify_audience else None
        )
        self._leeway = settings.leeway
        self._required = tuple(settings.required_claims)
        self._scopes = compiled(tuple(settings.scope_claims))
        self._roles = compiled(tuple(settings.role_claims)) if settings.role_claims else None
        self._rules = compile_rules(settings.claim_rules)
        self._max_lifetime = settings.max_token_lifetime
        self._max_age = settings.max_token_age

    def judge(self, answer: Mapping[str, Any], now: float) -> VerifiedToken:
        """The verified token *answer* describes at time *now*; raises ``InvalidToken``."""
        if answer.get("active") is not True:
            # RFC 7662 §2.2: the server's "no"; the reason tells it apart in logs and events.
            raise InvalidToken("The token is not active.", reason="inactive")
        token_type = answer.get("token_type")
        if isinstance(token_type, str) and "refresh" in token_type.lower():
            raise InvalidToken("A refresh token is not an access token.", reason="token_type")
        leeway = self._leeway
        exp = _number(answer, "exp")
        if exp is not None and now >= exp + leeway:
            raise ExpiredToken("The token has expired.", claim="exp")
        nbf = _number(answer, "nbf")
        if nbf is not None and nbf > now + leeway:
            raise ImmatureToken("The token is not valid yet.", claim="nbf")
        iat = _number(answer, "iat")
        if iat is not None and iat > now + leeway:
            raise ImmatureToken("The token was issued in the future.", claim="iat")
        issuer = self._issuer
        if self._template is not None:
            expected = self._template.expected(answer)
            if expected is None:
                raise InvalidIssuer("The token was not issued by an accepted tenant.", claim="iss")
            issuer = expected
        if "iss" in answer and answer["iss"] != issuer:
            raise InvalidIssuer("The token was not issued by the expected issuer.", claim="iss")
        if self._audiences is not None and "aud" in answer:
            validate_aud(answer, self._audiences)
        for name in self._required:
            if answer.get(name) is None:
                raise InvalidClaim(
                    f"The token has no '{name}' claim.", claim=name, reason="missing_claim"
                )
        if self._max_lifetime is not None or self._max_age is not None:
            validate_lifetime(answer, now, leeway, self._max_lifetime, self._max_age)
        if self._rules:
            check_rules(answer, self._rules)
        claims = {name: value for name, value in answer.items() if name != "active"}
        claims.setdefault("iss", issuer)
        roles = self._roles(claims) if self._roles is not None else frozenset()
        return VerifiedToken(MappingProxyType(claims), _NO_HEADER, self._scopes(claims), roles)

    @staticmethod
    def keep_until(answer: Mapping[str, Any], now: float, max_age: float) -> float:
        """Until when an active *answer* may be reused: *max_age*, and never past ``exp``."""
        until = now + max_age
        exp = answer.get("exp")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp < until:
            until = float(exp)
        return until
