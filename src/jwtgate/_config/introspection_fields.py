"""Settings of RFC 7662 introspection (opaque tokens); answers are shared through the
``redis_url`` of the DPoP field group when it is set.

``Settings`` inherits ``IntrospectionFields``; ``validate_introspection`` checks them
(called from ``validation.validate``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol, cast

from .._exceptions import ConfigurationError
from .authz_fields import TENANT_PLACEHOLDER
from .envparse import env_field as _field
from .envparse import parse_bool as _parse_bool
from .envparse import parse_float as _parse_float
from .envparse import parse_int as _parse_int
from .envparse import parse_str as _parse_str
from .urls import require_secure_url

__all__ = ["AUTH_METHODS", "IntrospectionFields", "validate_introspection"]

#: Client authentication methods for the introspection endpoint (RFC 7591 §2 names).
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntrospectionFields:
    """Where opaque tokens are introspected, with which credentials, and how answers are kept."""

    introspection_url: str | None = _field(
        "JWTGATE_INTROSPECTION_URL",
        _parse_str,
        "RFC 7662 endpoint for opaque (non-JWS) tokens. Unset: discovered from the issuer's "
        "`introspection_endpoint` when `JWTGATE_INTROSPECTION_CLIENT_ID` is set. https:// "
        "(plain http for loopback only).",
        default=None,
    )
    introspection_client_id: str | None = _field(
        "JWTGATE_INTROSPECTION_CLIENT_ID",
        _parse_str,
        "The client id this API presents to the introspection endpoint.",
        default=None,
    )
    introspection_client_secret: str | None = _field(
        "JWTGATE_INTROSPECTION_CLIENT_SECRET",
        _parse_str,
        "Its secret (`client_secret_basic`, `client_secret_post`).",
        default=None,
        repr=False,
    )
    introspection_auth_method: str = _field(
        "JWTGATE_INTROSPECTION_AUTH_METHOD",
        _parse_str,
        "`client_secret_basic` (HTTP Basic, default), `client_secret_post` or "
        "`private_key_jwt` (RFC 7523, signed with `JWTGATE_INTROSPECTION_PRIVATE_KEY_FILE`).",
        default="client_secret_basic",
    )
    introspection_private_key_file: str | None = _field(
        "JWTGATE_INTROSPECTION_PRIVATE_KEY_FILE",
        _parse_str,
        "PEM private key (RSA, EC P-256 or Ed25519) for `private_key_jwt`; its `kid` is "
        "the file name without extension.",
        default=None,
    )
    introspect_jwts: bool = _field(
        "JWTGATE_INTROSPECT_JWTS",
        _parse_bool,
        "Introspect JWTs too (revocation-exact APIs): the endpoint's answer replaces the "
        "local signature check.",
        default=False,
    )
    introspection_cache_ttl: float = _field(
        "JWTGATE_INTROSPECTION_CACHE_TTL",
        _parse_float,
        "Longest time an active answer is reused (never past the token's `exp`); bounds "
        "how long a revoked token keeps working. `0`: ask every time.",
        default=60.0,
    )
    introspection_negative_ttl: float = _field(
        "JWTGATE_INTROSPECTION_NEGATIVE_TTL",
        _parse_float,
        "Seconds an inactive or refused token is answered 401 from memory. `0`: never.",
        default=5.0,
    )
    introspection_cache_size: int = _field(
        "JWTGATE_INTROSPECTION_CACHE_SIZE",
        _parse_int,
        "Introspection answers kept in memory (least recently used go first).",
        default=4096,
    )
    introspection_cache_bytes: int = _field(
        "JWTGATE_INTROSPECTION_CACHE_BYTES",
        _parse_int,
        "Memory bound of those answers (their JSON size plus overhead), bytes.",
        default=8 * 1024 * 1024,
    )


class _Fields(Protocol):
    @property
    def introspection_url(self) -> str | None: ...
    @property
    def introspection_client_id(self) -> str | None: ...
    @property
    def introspection_client_secret(self) -> str | None: ...
    @property
    def introspection_auth_method(self) -> str: ...
    @property
    def introspection_private_key_file(self) -> str | None: ...
    @property
    def introspect_jwts(self) -> bool: ...
    @property
    def introspection_cache_size(self) -> int: ...
    @property
    def introspection_cache_bytes(self) -> int: ...
    @property
    def issuers(self) -> object: ...
    @property
    def issuer(self) -> str: ...


def validate_introspection(settings: object) -> None:
    """Raise ``ConfigurationError`` naming the first introspection setting that is invalid."""
    s = cast("_Fields", settings)
    for name in ("introspection_cache_ttl", "introspection_negative_ttl"):
        value = getattr(s, name)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ConfigurationError(name, f"{value!r} must be a finite number >= 0")
    for name, least in (("introspection_cache_size", 0), ("introspection_cache_bytes", 1024)):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigurationError(name, f"{value!r} must be a whole number >= {least}")
    if s.introspection_url is not None:
        require_secure_url(s.introspection_url, "introspection_url")
    if s.introspection_url is None and s.introspection_client_id is None:
        if s.introspect_jwts:
            raise ConfigurationError(
                "introspect_jwts", "needs introspection: set the introspection URL or client id"
            )
        return
    if s.issuers:
        raise ConfigurationError(
            "introspection_url",
            "introspection works with one issuer (JWTGATE_ISSUER), not with JWTGATE_ISSUERS",
        )
    if s.introspection_url is None and TENANT_PLACEHOLDER in s.issuer:
        raise ConfigurationError(
            "introspection_url",
            f"is required with the template issuer {s.issuer!r}: its metadata cannot be "
            "discovered; set the endpoint all tenants share",
        )
    if not s.introspection_client_id:
        raise ConfigurationError(
            "introspection_client_id", "is required with an introspection endpoint (RFC 7662 §2.1)"
        )
    method = s.introspection_auth_method
    if method not in AUTH_METHODS:
        raise ConfigurationError(
            "introspection_auth_method", f"{method!r} is not one of {', '.join(AUTH_METHODS)}"
        )
    if method == "private_key_jwt":
        if not s.introspection_private_key_file:
            raise ConfigurationError(
                "introspection_private_key_file", "is required with private_key_jwt"
            )
    elif not s.introspection_client_secret:
        raise ConfigurationError("introspection_client_secret", f"is required with {method}")
