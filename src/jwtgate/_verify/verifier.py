"""The verification core: a token, a key set and a clock in, an identity or one typed error out.

No I/O and no web framework here: the middleware, the WSGI wrapper and the CLI
all call ``TokenVerifier``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._config.settings import Settings
from .._exceptions import InvalidAlgorithm, InvalidIssuer, InvalidSignature, InvalidTokenType
from .._keys.jwk import JWK, KeySet
from .claims import validate_access_token, validate_claims, validate_lifetime
from .pointer import compiled
from .rules import check_rules, compile_rules
from .tenants import IssuerTemplate
from .token import UnverifiedToken, parse_token

__all__ = ["TokenVerifier", "VerifiedToken", "accepted_audiences"]

# RFC 9068 §4: media types compare case-insensitively (RFC 2045), with or without the prefix.
_ACCESS_TOKEN_TYP = frozenset(("at+jwt", "application/at+jwt"))


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature and claims have been verified."""

    claims: Mapping[str, Any]
    header: Mapping[str, Any]
    scopes: frozenset[str]
    #: The roles the token grants (``Settings.role_claims``).
    roles: frozenset[str] = frozenset()

    @property
    def subject(self) -> str | None:
        """The ``sub`` claim, or None when the token has none."""
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    @property
    def issuer(self) -> str:
        """The ``iss`` claim (verified)."""
        iss: str = self.claims["iss"]
        return iss

    @property
    def client_id(self) -> str | None:
        """The OAuth client the token was issued to (``client_id`` or ``azp``), if stated."""
        for name in ("client_id", "azp"):
            value = self.claims.get(name)
            if isinstance(value, str):
                return value
        return None

    @property
    def expires_at(self) -> float:
        """The ``exp`` claim, in seconds since the epoch."""
        exp: float = self.claims["exp"]
        return exp

    def has_scopes(self, *scopes: str) -> bool:
        """True when the token grants every scope in *scopes*."""
        return self.scopes.issuperset(scopes)

    def has_roles(self, *roles: str) -> bool:
        """True when the token grants every role in *roles*."""
        return self.roles.issuperset(roles)


def accepted_audiences(settings: Settings) -> tuple[str, ...]:
    """The audiences a token's ``aud`` may name: ``audience``, and ``resource`` when set."""
    # RFC 8707/9728: a client asks its authorization server for a token for this resource,
    # so the token names the resource URL as its audience.
    resource = (settings.resource,) if settings.resource else ()
    return (*(settings.audience or ()), *resource)


class TokenVerifier:
    """Verifies tokens against a key set under one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._algorithms = frozenset(settings.algorithms)
        self._audiences = (
            frozenset(accepted_audiences(settings)) if settings.verify_audience else None
        )
        self._leeway = settings.leeway
        self._issuer = settings.issuer
        self._required = tuple(settings.required_claims)
        self._scopes = compiled(tuple(settings.scope_claims))
        self._roles = compiled(tuple(settings.role_claims)) if settings.role_claims else None
        self._rules = compile_rules(settings.claim_rules)
        #: Set for a multi-tenant issuer (``{tenantid}``): ``iss`` is matched with ``tid``.
        self.template = IssuerTemplate.of(settings.issuer)
        self._strict = settings.strict_access_token
        self._max_lifetime = settings.max_token_lifetime
        self._max_age = settings.max_token_age

    def parse(self, token: str) -> UnverifiedToken:
        """Decode *token* and check its header against the allowlist, before any key lookup."""
        unverified = parse_token(token)
        if unverified.alg not in self._algorithms:
            # The allowlist is ours, never the token's (RFC 8725 §3.1): "none", HS*
            # and anything not configured stop here, before a key is even chosen.
            raise InvalidAlgorithm("The token's algorithm is not allowed.")
        return unverified

    def verify_with_key(self, unverified: UnverifiedToken, key: JWK, now: float) -> VerifiedToken:
        """Check the signature with *key*, then the claims at time *now*."""
        if self._strict:
            # Here rather than in parse(): every caller, whatever selected the key and
            # issuer, passes through this method. Explicit typing (RFC 8725 §3.11) keeps
            # ID tokens and other JWTs of the same issuer from passing as access tokens.
            typ = unverified.header.get("typ")
            if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYP:
                raise InvalidTokenType(
                    "The token's type is not at+jwt: an access token is required."
                )
        if not key.verify(unverified.alg, unverified.signing_input, unverified.signature):
            raise InvalidSignature("The token's signature is invalid.")
        claims = unverified.claims
        issuer = self._issuer
        if self.template is not None:
            expected = self.template.expected(claims)
            if expected is None:
                raise InvalidIssuer("The token was not issued by an accepted tenant.", claim="iss")
            issuer = expected
        validate_claims(
            claims,
            now=now,
            leeway=self._leeway,
            issuer=issuer,
            audiences=self._audiences,
            required=self._required,
        )
        if self._strict:
            validate_access_token(claims)
        if self._max_lifetime is not None or self._max_age is not None:
            validate_lifetime(claims, now, self._leeway, self._max_lifetime, self._max_age)
        if self._rules:
            check_rules(claims, self._rules)
        roles = self._roles(claims) if self._roles is not None else frozenset()
        return VerifiedToken(
            MappingProxyType(claims), unverified.header, self._scopes(claims), roles
        )

    def verify(self, token: str, keys: KeySet, now: float) -> VerifiedToken:
        """Parse, pick the key, verify signature and claims; raises one ``InvalidToken``."""
        unverified = self.parse(token)
        key = keys.find(unverified.kid, unverified.alg)
        return self.verify_with_key(unverified, key, now)
