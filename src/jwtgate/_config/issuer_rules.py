"""What one trusted issuer's settings must satisfy.

An issuer (``Settings`` alone, or each entry of ``Settings.issuers``) has an identity
(``issuer``, ``audience``), exactly one key source (a JWKS URL, discovery, a JWKS file,
PEM files or a shared secret) and an algorithm allowlist that fits that source.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from typing import Protocol

from .._exceptions import ConfigurationError
from .issuers import IssuerConfig, check_unique
from .urls import require_secure_url

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "IssuerFields",
    "did_you_mean",
    "validate_algorithms",
    "validate_identity",
    "validate_issuers",
    "validate_key_source",
]

#: Every asymmetric JWS algorithm of RFC 7518, RFC 8037 and RFC 9864 (the fully
#: specified ``Ed25519`` and ``Ed448``) that jwtgate verifies by default.
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    "Ed25519", "Ed448",
)  # fmt: skip
# ES256K (secp256k1, RFC 8812) is known but only used when listed explicitly.
_KNOWN_ASYMMETRIC = frozenset((*ASYMMETRIC_ALGORITHMS, "ES256K"))
# Symmetric and unsecured algorithms can never verify against a public JWKS: an
# HS* "key" taken from a JWKS is public, and "none" has no signature (RFC 8725 §3.1).
_REFUSED = frozenset(("none", "HS256", "HS384", "HS512"))
# HS* verify only against a configured shared secret, never against keys from a JWKS;
# RFC 7518 §3.2: the key must be at least as long as the hash output.
_SYMMETRIC = {"HS256": 32, "HS384": 48, "HS512": 64}


class IssuerFields(Protocol):
    """What the issuer rules read of ``Settings`` (a protocol: this module never imports it)."""

    @property
    def issuer(self) -> str: ...
    @property
    def audience(self) -> Sequence[str] | None: ...
    @property
    def verify_audience(self) -> bool: ...
    @property
    def resource(self) -> str | None: ...
    @property
    def jwks_url(self) -> str | None: ...
    @property
    def jwks_file(self) -> str | None: ...
    @property
    def public_key_files(self) -> Sequence[str]: ...
    @property
    def hmac_secret(self) -> str | bytes | None: ...
    @property
    def algorithms(self) -> Sequence[str]: ...
    @property
    def issuers(self) -> Sequence[IssuerConfig]: ...
    def for_issuer(self, config: IssuerConfig) -> object: ...


_ISSUER_FIELDS = frozenset(f.name for f in dataclasses.fields(IssuerConfig))


def validate_identity(s: IssuerFields) -> None:
    """Check the single issuer of *s*: issuer, audience, key source and algorithms."""
    if not isinstance(s.issuer, str) or not s.issuer.strip():
        raise ConfigurationError(
            "issuer", "is required: the expected `iss`, e.g. https://login.example.com/"
        )
    if s.verify_audience:
        if not s.audience and not s.resource:  # The resource is an accepted audience (RFC 8707).
            raise ConfigurationError(
                "audience",
                "is required: the audience(s) your API accepts, comma-separated (or set "
                "JWTGATE_RESOURCE, this API's URL, which is then the accepted audience). For an "
                "issuer whose access tokens carry no `aud`, set verify_audience to false "
                "(JWTGATE_VERIFY_AUDIENCE=false) instead",
            )
    elif s.audience:
        raise ConfigurationError(
            "audience", "is set while verify_audience is false; set one or the other"
        )
    validate_key_source(s)


def validate_key_source(s: IssuerFields) -> None:
    """Exactly one key source, reachable securely, with algorithms that fit it."""
    sources = [
        name
        for name in ("jwks_url", "jwks_file", "public_key_files", "hmac_secret")
        if getattr(s, name)
    ]
    if len(sources) > 1:
        raise ConfigurationError(
            sources[1],
            f"cannot be combined with {sources[0]}: each issuer has exactly one key source "
            "(a shared secret is never mixed with public keys)",
        )
    if s.jwks_url is not None:
        require_secure_url(s.jwks_url, "jwks_url")
    elif not sources:
        # Discovery: the URL fetched is the issuer without its trailing "/" (OIDC
        # Discovery §4); the issuer itself is kept as configured, compared exactly.
        require_secure_url(s.issuer.rstrip("/"), "issuer")
    if s.hmac_secret:
        secret = s.hmac_secret
        size = len(secret.encode() if isinstance(secret, str) else secret)
        if not s.algorithms or any(alg not in _SYMMETRIC for alg in s.algorithms):
            raise ConfigurationError(
                "algorithms",
                f"must list only {', '.join(_SYMMETRIC)} with an HMAC secret; "
                "use another issuer entry for asymmetric keys",
            )
        needed = max(_SYMMETRIC[alg] for alg in s.algorithms)
        if size < needed:
            raise ConfigurationError(
                "hmac_secret",
                f"is {size} bytes; {', '.join(s.algorithms)} need at least {needed} random "
                "bytes (RFC 7518 §3.2), e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`",
            )
    else:
        validate_algorithms(s.algorithms)


def validate_issuers(s: IssuerFields) -> None:
    """Check each of ``s.issuers`` as a whole ``Settings``; errors name ``issuers[i].field``."""
    for name in ("issuer", "audience", "jwks_url", "jwks_file", "public_key_files", "hmac_secret"):
        if getattr(s, name):
            raise ConfigurationError(
                name, "is set together with issuers; give it in each issuers entry instead"
            )
    for index, config in enumerate(s.issuers):
        if not isinstance(config, IssuerConfig):
            raise ConfigurationError(f"issuers[{index}]", "must be an IssuerConfig")
        try:
            s.for_issuer(config)
        except ConfigurationError as exc:
            if exc.setting not in _ISSUER_FIELDS:
                raise  # A shared setting: report it under its own name.
            raise ConfigurationError(f"issuers[{index}].{exc.setting}", exc.problem) from None
    check_unique(s.issuers)


def validate_algorithms(algorithms: Sequence[str]) -> None:
    """An allowlist of known asymmetric algorithms, for keys from a JWKS or PEM files."""
    if not algorithms:
        raise ConfigurationError("algorithms", "must list at least one algorithm")
    for alg in algorithms:
        if alg in _REFUSED:
            raise ConfigurationError(
                "algorithms",
                f"{alg!r} is refused: keys come from a public JWKS, so a symmetric (HS*) "
                "or unsecured ('none') algorithm would let anyone forge tokens (for a shared "
                "secret, set hmac_secret instead of a JWKS)",
            )
        if alg not in _KNOWN_ASYMMETRIC:
            close = did_you_mean(alg, _KNOWN_ASYMMETRIC)
            hint = f" (did you mean {close!r}? names are case-sensitive)" if close else ""
            raise ConfigurationError(
                "algorithms",
                f"unknown algorithm {alg!r}{hint}; known: {', '.join(sorted(_KNOWN_ASYMMETRIC))}",
            )


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known name *name* most likely meant: the same letters in another case first
    (``es256`` is ``ES256``, never ``RS256``), else the closest spelling."""
    by_case = {k.casefold(): k for k in known}
    if name.casefold() in by_case:
        return by_case[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), sorted(by_case), n=1, cutoff=0.5)
    return by_case[close[0]] if close else None
