"""Validation of ``Settings``: the issuer rules, then the limits every issuer shares.

Errors name the ``Settings`` field (``Settings.from_env`` maps it to the variable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from .._exceptions import ConfigurationError
from .authz_fields import validate_authz
from .dpop_fields import DPoPSettings, validate_dpop
from .fetch_fields import FetchFieldValues, validate_fetch
from .introspection_fields import validate_introspection
from .issuer_rules import IssuerFields, validate_identity, validate_issuers
from .resource_fields import ResourceView, validate_resource

__all__ = ["SettingsFields", "validate"]


class SettingsFields(IssuerFields, ResourceView, DPoPSettings, FetchFieldValues, Protocol):
    """What ``validate`` reads of ``Settings`` by name, besides the issuer fields."""

    @property
    def jwks_min_ttl(self) -> float: ...
    @property
    def jwks_max_ttl(self) -> float: ...
    @property
    def leeway(self) -> float: ...
    @property
    def token_cache_size(self) -> int: ...
    @property
    def strict_access_token(self) -> bool: ...
    @property
    def scope_claims(self) -> Sequence[str]: ...
    @property
    def role_claims(self) -> Sequence[str]: ...
    @property
    def static_keys(self) -> bool: ...
    @property
    def exclude_paths(self) -> Sequence[str]: ...
    @property
    def realm(self) -> str: ...


def validate(s: SettingsFields) -> None:
    """Raise ``ConfigurationError`` naming the first setting of *s* that is invalid."""
    validate_resource(s)  # First: JWTGATE_RESOURCE may stand in for the audience.
    if s.issuers:
        validate_issuers(s)
    else:
        validate_identity(s)
    for name in (
        "leeway", "jwks_cache_ttl", "jwks_refetch_cooldown", "jwks_max_stale",
        "jwks_min_ttl", "jwks_max_ttl", "jwks_negative_ttl",
    ):  # fmt: skip
        _check_number(name, getattr(s, name), minimum=0.0)
    validate_fetch(s)
    if s.jwks_max_ttl < s.jwks_min_ttl:
        raise ConfigurationError("jwks_max_ttl", "must not be less than jwks_min_ttl")
    for name in ("http_timeout", "http_connect_timeout", "http_total_timeout"):
        _check_number(name, getattr(s, name), minimum=0.001)
    if s.leeway > 300:
        raise ConfigurationError("leeway", f"{s.leeway} s is too large; use at most 300")
    for name in ("jwks_max_bytes", "max_token_bytes"):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1024:
            raise ConfigurationError(name, f"{value!r} must be a whole number >= 1024")
    if (
        not isinstance(s.token_cache_size, int)
        or isinstance(s.token_cache_size, bool)
        or s.token_cache_size < 0
    ):
        raise ConfigurationError(
            "token_cache_size", f"{s.token_cache_size!r} must be a whole number >= 0"
        )
    if not isinstance(s.strict_access_token, bool):
        raise ConfigurationError("strict_access_token", f"{s.strict_access_token!r} is not a bool")
    for name in ("max_token_lifetime", "max_token_age"):
        if getattr(s, name) is not None:
            _check_number(name, getattr(s, name), minimum=1.0)
    if not s.scope_claims:
        raise ConfigurationError("scope_claims", "must name at least one claim")
    for path in s.exclude_paths:
        if not path.startswith("/"):
            raise ConfigurationError("exclude_paths", f"{path!r} must start with '/'")
    validate_authz(s)
    if '"' in s.realm or "\\" in s.realm or not s.realm.isprintable():
        raise ConfigurationError("realm", "must be printable and contain no '\"' or '\\'")
    validate_dpop(s)
    validate_introspection(s)


def _check_number(name: str, value: object, *, minimum: float) -> None:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ConfigurationError(name, f"{value!r} must be a finite number >= {minimum:g}")
