"""Settings: one frozen, keyword-only object, validated on construction.

``Settings(...)`` is usable directly; ``Settings.from_env()`` builds one from the
``JWTGATE_*`` environment variables.  Either way an invalid value raises
``ConfigurationError`` naming the setting (the environment variable, for
``from_env``) and saying what is wrong with it. The variables are read by
``_envparse``, the values checked by ``_validation`` and ``_issuer_rules``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import ConfigurationError
from .authz_fields import AuthzFields, normalize_claim_rules
from .dpop_fields import DPoPFields
from .envparse import env_field as _field
from .envparse import parse_bool as _parse_bool
from .envparse import parse_float as _parse_float
from .envparse import parse_int as _parse_int
from .envparse import parse_list as _parse_list
from .envparse import parse_str as _parse_str
from .envparse import read_environ
from .fetch_fields import FetchFields
from .introspection_fields import IntrospectionFields
from .issuer_rules import ASYMMETRIC_ALGORITHMS
from .issuers import IssuerConfig, parse_issuers
from .resource_fields import ResourceFields
from .token_fields import TokenFields
from .urls import discovery_urls, is_loopback_host, require_secure_url
from .validation import validate

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "Settings",
    "env_var",
    "is_loopback_host",
    "require_secure_url",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(
    AuthzFields, ResourceFields, FetchFields, TokenFields, DPoPFields, IntrospectionFields
):
    """How tokens are verified. Frozen, keyword-only, validated on construction."""

    jwks_min_ttl: float = _field(
        "JWTGATE_JWKS_MIN_TTL",
        _parse_float,
        "Shortest lifetime given to a fetched key set, whatever the server's `Cache-Control` "
        "or `Expires` says (`no-store`/`no-cache` mean this minimum).",
        default=60.0,
    )
    jwks_max_ttl: float = _field(
        "JWTGATE_JWKS_MAX_TTL",
        _parse_float,
        "Longest lifetime given to a fetched key set; bounds how long a key removed "
        "upstream keeps verifying.",
        default=3600.0,
    )
    jwks_negative_ttl: float = _field(
        "JWTGATE_JWKS_NEGATIVE_TTL",
        _parse_float,
        "Seconds a `kid` found absent by a fetch is answered from memory, without fetching.",
        default=5.0,
    )
    jwks_background_refresh: bool = _field(
        "JWTGATE_JWKS_BACKGROUND_REFRESH",
        _parse_bool,
        "Refresh keys ahead of expiry in the background (ASGI lifespan task, or a daemon "
        "thread for the sync face). `false`: refresh on demand, on the first request after expiry.",
        default=True,
    )
    http_connect_timeout: float = _field(
        "JWTGATE_HTTP_CONNECT_TIMEOUT",
        _parse_float,
        "Timeout for connecting to the JWKS or discovery server, seconds.",
        default=5.0,
    )
    http_total_timeout: float = _field(
        "JWTGATE_HTTP_TOTAL_TIMEOUT",
        _parse_float,
        "Deadline for a whole key fetch (discovery and JWKS: connect, headers and body), "
        "seconds; held however slowly the server drips or stalls.",
        default=10.0,
    )
    jwks_file: str | None = _field(
        "JWTGATE_JWKS_FILE",
        _parse_str,
        "Static keys: a local JWKS file, read once at startup, instead of a remote JWKS.",
        default=None,
    )
    public_key_files: Sequence[str] = _field(
        "JWTGATE_PUBLIC_KEY_FILES",
        _parse_list,
        "Static keys: PEM public keys or certificates (RSA >= 2048 bits, EC, Ed25519/Ed448), "
        "comma-separated paths; a key's `kid` is its file name without extension.",
        default=(),
    )
    hmac_secret: str | bytes | None = _field(
        "JWTGATE_HMAC_SECRET",
        _parse_str,
        "Static key: a shared HMAC secret (at least 32 bytes; 48 for HS384, 64 for HS512). "
        "The only source for which "
        "`HS256`/`HS384`/`HS512` are allowed (`JWTGATE_ALGORITHMS` defaults to `HS256` then).",
        default=None,
        repr=False,
    )
    issuers: Sequence[IssuerConfig] = _field(
        "JWTGATE_ISSUERS",
        parse_issuers,
        "Many issuers: a JSON list of objects with `issuer`, `audience`, `verify_audience`, "
        "`jwks_url`, `algorithms`, `jwks_file`, `public_key_files`, `hmac_secret` (or "
        "`hmac_secret_file`). Replaces `JWTGATE_ISSUER`/`AUDIENCE`/`JWKS_URL` and the key files.",
        default=(),
    )
    token_cache_size: int = _field(
        "JWTGATE_TOKEN_CACHE_SIZE",
        _parse_int,
        "Verified tokens remembered (by digest, from their second use, until exp or a "
        "key set change) so a repeated token skips the signature check; 0 turns it off.",
        default=4096,
    )

    def __post_init__(self) -> None:
        def coerce(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, str):
                value = _parse_list(value)
            elif value is not None:
                value = tuple(value)
            object.__setattr__(self, name, value)

        for name in ("audience", "algorithms", "required_claims", "scope_claims", "exclude_paths"):
            coerce(name)
        coerce("role_claims")
        object.__setattr__(self, "claim_rules", normalize_claim_rules(self.claim_rules))
        for name in ("dpop_algorithms", "dpop_nonce_secrets"):
            coerce(name)
        coerce("public_key_files")
        coerce("scopes_supported")
        object.__setattr__(self, "issuers", tuple(self.issuers))
        if self.hmac_secret and tuple(self.algorithms) == ASYMMETRIC_ALGORITHMS:
            object.__setattr__(self, "algorithms", ("HS256",))
        validate(self)

    @property
    def static_keys(self) -> bool:
        """True when keys come from a file or a secret rather than a remote JWKS."""
        return bool(self.jwks_file or self.public_key_files or self.hmac_secret)

    def for_issuer(self, config: IssuerConfig) -> Settings:
        """The settings of one of ``issuers``: its own fields, the shared ones from here."""
        return dataclasses.replace(
            self,
            issuer=config.issuer,
            audience=config.audience,
            verify_audience=config.verify_audience,
            jwks_url=config.jwks_url,
            algorithms=self.algorithms if config.algorithms is None else config.algorithms,
            jwks_file=config.jwks_file,
            public_key_files=config.public_key_files,
            hmac_secret=config.hmac_secret,
            claim_rules={**self.claim_rules, **(config.claim_rules or {})},
            issuers=(),
        )

    @property
    def discovery_urls(self) -> tuple[str, ...]:
        """Where the JWKS URL is looked up when ``jwks_url`` is not set, in order."""
        return discovery_urls(self.issuer)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``JWTGATE_*`` variables; *overrides* win over the environment."""
        env = os.environ if environ is None else environ
        kwargs = read_environ(dataclasses.fields(cls), env, skip=overrides)
        kwargs.update(overrides)
        try:
            return cls(**kwargs)
        except ConfigurationError as exc:
            if exc.setting.partition("[")[0] not in overrides:
                raise ConfigurationError(env_var(exc.setting), exc.problem) from None
            raise


def env_var(setting: str) -> str:
    """The environment variable of a setting name, e.g. ``issuers[1].audience``."""
    name, bracket, rest = setting.partition("[")
    for f in dataclasses.fields(Settings):
        if f.name == name:
            return str(f.metadata["env"]) + bracket + rest
    return setting
