"""The first half of ``Settings``' fields: the issuer's identity and how tokens are judged.

``Settings`` inherits them (keyword-only, frozen); it adds the key-set fields and
validates the whole on construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .envparse import env_field as _field
from .envparse import parse_bool as _parse_bool
from .envparse import parse_float as _parse_float
from .envparse import parse_int as _parse_int
from .envparse import parse_list as _parse_list
from .envparse import parse_str as _parse_str
from .issuer_rules import ASYMMETRIC_ALGORITHMS

__all__ = ["TokenFields"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TokenFields:
    """The issuer, audience, algorithms and claim settings (see ``Settings``)."""

    issuer: str = _field(
        "JWTGATE_ISSUER", _parse_str, "Expected `iss`, compared exactly. Required.", default=""
    )
    audience: Sequence[str] | None = _field(
        "JWTGATE_AUDIENCE",
        _parse_list,
        "Accepted audiences, comma-separated; the token's `aud` must contain one. Required "
        "unless `JWTGATE_VERIFY_AUDIENCE=false`.",
        default=None,
    )
    verify_audience: bool = _field(
        "JWTGATE_VERIFY_AUDIENCE",
        _parse_bool,
        "Set to `false` for issuers whose access tokens carry no `aud` (then "
        "`JWTGATE_AUDIENCE` must be unset).",
        default=True,
    )
    jwks_url: str | None = _field(
        "JWTGATE_JWKS_URL",
        _parse_str,
        "The JWKS document. Unset: discovered from the issuer's "
        "`/.well-known/openid-configuration` (then RFC 8414 metadata).",
        default=None,
    )
    algorithms: Sequence[str] = _field(
        "JWTGATE_ALGORITHMS",
        _parse_list,
        "Allowed `alg` values, comma-separated, case-sensitive. `none` and `HS*` are refused.",
        default=ASYMMETRIC_ALGORITHMS,
    )
    leeway: float = _field(
        "JWTGATE_LEEWAY", _parse_float, "Clock skew allowed on `exp`/`nbf`/`iat`, seconds.",
        default=30.0,
    )  # fmt: skip
    required_claims: Sequence[str] = _field(
        "JWTGATE_REQUIRED_CLAIMS",
        _parse_list,
        "Claims that must be present besides `exp` (and `iss`, `aud`), e.g. `sub,iat`.",
        default=(),
    )
    scope_claims: Sequence[str] = _field(
        "JWTGATE_SCOPE_CLAIMS",
        _parse_list,
        "Claims whose values are scopes: space-delimited strings or lists of strings.",
        default=("scope", "scp"),
    )
    exclude_paths: Sequence[str] = _field(
        "JWTGATE_EXCLUDE_PATHS",
        _parse_list,
        "Paths that skip authentication entirely (exact; a trailing `*` matches a prefix).",
        default=(),
    )
    realm: str = _field(
        "JWTGATE_REALM", _parse_str, "The `realm` of `WWW-Authenticate` challenges.",
        default="api",
    )  # fmt: skip
    jwks_cache_ttl: float = _field(
        "JWTGATE_JWKS_CACHE_TTL",
        _parse_float,
        "Lifetime of a fetched key set when the server sends no `Cache-Control: max-age` or "
        "`Expires` (refreshed ahead, at 75-90 % of its lifetime).",
        default=300.0,
    )
    jwks_refetch_cooldown: float = _field(
        "JWTGATE_JWKS_REFETCH_COOLDOWN",
        _parse_float,
        "Minimum seconds between two fetches caused by unknown `kid`s or failures.",
        default=5.0,
    )
    jwks_max_stale: float = _field(
        "JWTGATE_JWKS_MAX_STALE",
        _parse_float,
        "Seconds past expiry the last good key set keeps verifying while refreshes fail.",
        default=3600.0,
    )
    jwks_max_bytes: int = _field(
        "JWTGATE_JWKS_MAX_BYTES",
        _parse_int,
        "Largest JWKS or discovery document accepted, in bytes.",
        default=65536,
    )
    http_timeout: float = _field(
        "JWTGATE_HTTP_TIMEOUT",
        _parse_float,
        "Timeout for each read and write of a key fetch, seconds.",
        default=5.0,
    )
    max_token_bytes: int = _field(
        "JWTGATE_MAX_TOKEN_BYTES",
        _parse_int,
        "Longer bearer tokens are rejected before any decoding.",
        default=16384,
    )
    strict_access_token: bool = _field(
        "JWTGATE_STRICT_ACCESS_TOKEN",
        _parse_bool,
        "Enforce the RFC 9068 JWT access-token profile: `typ` must be `at+jwt` (or "
        "`application/at+jwt`) and `sub`, `client_id`, `iat`, `jti` are required. Refuses "
        "ID tokens and other JWTs presented as access tokens.",
        default=False,
    )
    max_token_lifetime: float | None = _field(
        "JWTGATE_MAX_TOKEN_LIFETIME",
        _parse_float,
        "Largest accepted `exp - iat`, seconds; tokens without `iat` are then rejected. "
        "Unset: no limit.",
        default=None,
    )
    max_token_age: float | None = _field(
        "JWTGATE_MAX_TOKEN_AGE",
        _parse_float,
        "Largest accepted time since `iat`, seconds (plus leeway); tokens without `iat` are "
        "then rejected. Unset: no limit.",
        default=None,
    )
