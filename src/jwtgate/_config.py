"""Settings: one frozen, keyword-only object, validated on construction.

``Settings(...)`` is usable directly; ``Settings.from_env()`` builds one from the
``JWTGATE_*`` environment variables.  Either way an invalid value raises
``ConfigurationError`` naming the setting (the environment variable, for
``from_env``) and saying what is wrong with it.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError
from ._issuers import IssuerConfig, check_unique, parse_issuers

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "Settings",
    "env_var",
    "is_loopback_host",
    "require_secure_url",
]

logger = logging.getLogger("jwtgate")

#: Every asymmetric JWS algorithm of RFC 7518 and RFC 8037 that jwtgate verifies by default.
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
# ES256K (secp256k1, RFC 8812) is known but only used when listed explicitly.
_KNOWN_ASYMMETRIC = frozenset((*ASYMMETRIC_ALGORITHMS, "ES256K"))
# Symmetric and unsecured algorithms can never verify against a public JWKS: an
# HS* "key" taken from a JWKS is public, and "none" has no signature (RFC 8725 §3.1).
_REFUSED = frozenset(("none", "HS256", "HS384", "HS512"))
# HS* verify only against a configured shared secret, never against keys from a JWKS;
# RFC 7518 §3.2: the key must be at least as long as the hash output.
_SYMMETRIC = {"HS256": 32, "HS384": 48, "HS512": 64}

_ENV_PREFIX = "JWTGATE_"


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, setting: str) -> str:
    """Return *url* if it is ``https://``, or ``http://`` to a loopback host; else raise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(setting, f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(setting, f"{url!r} is not an absolute http(s) URL")
    if parts.scheme != "https" and not is_loopback_host(host):
        raise ConfigurationError(
            setting,
            f"{url!r} must use https:// (plain http is only allowed for loopback hosts "
            "such as localhost or 127.0.0.1): keys fetched in clear text could be replaced "
            "by anyone on the network path",
        )
    return url


def _field(env: str, parse: Callable[[str], Any], doc: str, **kwargs: Any) -> Any:
    return dataclasses.field(metadata={"env": env, "parse": parse, "doc": doc}, **kwargs)


def _parse_str(value: str) -> str:
    return value.strip()


def _parse_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _parse_float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def _parse_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (use true or false)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """How tokens are verified. Frozen, keyword-only, validated on construction."""

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
        "Deadline for a whole key fetch (connect, headers and body), seconds.",
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
        "Verified tokens remembered (by digest, until exp or a key set change) "
        "so a repeated token skips the signature check; 0 turns the cache off.",
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
        coerce("public_key_files")
        object.__setattr__(self, "issuers", tuple(self.issuers))
        if self.hmac_secret and tuple(self.algorithms) == ASYMMETRIC_ALGORITHMS:
            object.__setattr__(self, "algorithms", ("HS256",))
        _validate(self)

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
            issuers=(),
        )

    @property
    def discovery_urls(self) -> tuple[str, ...]:
        """Where the JWKS URL is looked up when ``jwks_url`` is not set."""
        base = self.issuer.rstrip("/")
        return (
            f"{base}/.well-known/openid-configuration",
            f"{base}/.well-known/oauth-authorization-server",
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``JWTGATE_*`` variables; *overrides* win over the environment."""
        env = os.environ if environ is None else environ
        known = {}
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            var = f.metadata["env"]
            known[var] = f.name
            if f.name in overrides or var not in env:
                continue
            raw = env[var]
            if not raw.strip() and f.name not in ("issuer", "audience"):
                continue  # An empty optional variable means "use the default".
            try:
                kwargs[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                raise ConfigurationError(var, str(exc)) from None
        for var in env:
            if var.startswith(_ENV_PREFIX) and var not in known:
                close = difflib.get_close_matches(var, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                logger.warning("Ignoring unknown setting %s%s", var, hint)
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


def _validate(s: Settings) -> None:
    if s.issuers:
        _validate_issuers(s)
    else:
        _validate_identity(s)
    for name in (
        "leeway", "jwks_cache_ttl", "jwks_refetch_cooldown", "jwks_max_stale",
        "jwks_min_ttl", "jwks_max_ttl", "jwks_negative_ttl",
    ):  # fmt: skip
        _check_number(name, getattr(s, name), minimum=0.0)
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
    if '"' in s.realm or "\\" in s.realm or not s.realm.isprintable():
        raise ConfigurationError("realm", "must be printable and contain no '\"' or '\\'")


def _validate_identity(s: Settings) -> None:
    if not isinstance(s.issuer, str) or not s.issuer.strip():
        raise ConfigurationError(
            "issuer", "is required: the expected `iss`, e.g. https://login.example.com/"
        )
    if s.verify_audience:
        if not s.audience:
            raise ConfigurationError(
                "audience",
                "is required: the audience(s) your API accepts, comma-separated. For an "
                "issuer whose access tokens carry no `aud`, set verify_audience to false "
                "(JWTGATE_VERIFY_AUDIENCE=false) instead",
            )
    elif s.audience:
        raise ConfigurationError(
            "audience", "is set while verify_audience is false; set one or the other"
        )
    _validate_key_source(s)


def _validate_key_source(s: Settings) -> None:
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
        _validate_algorithms(s.algorithms)


def _validate_issuers(s: Settings) -> None:
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


_ISSUER_FIELDS = frozenset(f.name for f in dataclasses.fields(IssuerConfig))


def _validate_algorithms(algorithms: Sequence[str]) -> None:
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
            close = difflib.get_close_matches(alg, sorted(_KNOWN_ASYMMETRIC), n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}? names are case-sensitive)" if close else ""
            raise ConfigurationError(
                "algorithms",
                f"unknown algorithm {alg!r}{hint}; known: {', '.join(sorted(_KNOWN_ASYMMETRIC))}",
            )


def _check_number(name: str, value: object, *, minimum: float) -> None:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ConfigurationError(name, f"{value!r} must be a finite number >= {minimum:g}")
