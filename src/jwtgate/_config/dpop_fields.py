"""Settings for sender-constrained tokens (RFC 9449 DPoP) and the shared state they need.

``Settings`` inherits ``DPoPFields``; ``validate_dpop`` checks them (called by
``validation.validate``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from .._exceptions import ConfigurationError
from .envparse import env_field as _field
from .envparse import parse_bool as _parse_bool
from .envparse import parse_float as _parse_float
from .envparse import parse_int as _parse_int
from .envparse import parse_list as _parse_list
from .envparse import parse_str as _parse_str
from .issuer_rules import ASYMMETRIC_ALGORITHMS

__all__ = [
    "DPOP_ALGORITHMS",
    "DPOP_MODES",
    "DPoPFields",
    "DPoPSettings",
    "mask_url",
    "validate_dpop",
]

#: The modes of ``JWTGATE_DPOP``.
DPOP_MODES = ("allowed", "required", "disabled")
#: Proof algorithms accepted by default: every asymmetric one (the tokens' default too).
DPOP_ALGORITHMS: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
_KNOWN = frozenset((*DPOP_ALGORITHMS, "ES256K"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class DPoPFields:
    """DPoP mode, proof checks, server nonces and the Redis URL (see ``Settings``).

    The ``htu`` origin comes from ``resource`` (``JWTGATE_RESOURCE``, ``ResourceFields``).
    """

    dpop: str = _field(
        "JWTGATE_DPOP",
        _parse_str,
        "`allowed`: `Authorization: DPoP` with a valid proof, and bearer tokens without "
        "`cnf`; `required`: DPoP-bound tokens only; `disabled`: the DPoP scheme counts as "
        "no token. A token with `cnf` is never accepted as a bearer token.",
        default="allowed",
    )
    dpop_algorithms: Sequence[str] = _field(
        "JWTGATE_DPOP_ALGORITHMS",
        _parse_list,
        "`alg` values accepted for DPoP proofs (asymmetric only), comma-separated.",
        default=DPOP_ALGORITHMS,
    )
    dpop_max_age: float = _field(
        "JWTGATE_DPOP_MAX_AGE",
        _parse_float,
        "Seconds a DPoP proof is accepted after its `iat` (plus `JWTGATE_LEEWAY` either "
        "side); its `jti` is remembered that long.",
        default=60.0,
    )
    use_dpop_nonce: bool = _field(
        "JWTGATE_USE_DPOP_NONCE",
        _parse_bool,
        "Require a server nonce in DPoP proofs (RFC 9449 §9): answered `use_dpop_nonce` with "
        "a `DPoP-Nonce` header until the client sends one. Needs `JWTGATE_DPOP_NONCE_SECRETS`.",
        default=False,
    )
    dpop_nonce_secrets: Sequence[str] = _field(
        "JWTGATE_DPOP_NONCE_SECRETS",
        _parse_list,
        "Secrets (at least 32 characters) nonces are derived from, comma-separated: the first "
        "makes nonces, all check them (rotation). The same on every worker and instance.",
        default=(),
        repr=False,
    )
    dpop_nonce_lifetime: float = _field(
        "JWTGATE_DPOP_NONCE_LIFETIME",
        _parse_float,
        "Seconds a server nonce stays current; the previous one is still accepted.",
        default=300.0,
    )
    dpop_replay_cache_size: int = _field(
        "JWTGATE_DPOP_REPLAY_CACHE_SIZE",
        _parse_int,
        "Without Redis: proof `jti`s remembered per process; when full of live entries, new "
        "proofs are answered 503 rather than risking a replay.",
        default=100_000,
    )
    redis_url: str | None = _field(
        "JWTGATE_REDIS_URL",
        _parse_str,
        "`redis://` or `rediss://` URL of the state shared by every worker and instance (the "
        "DPoP replay cache, introspection answers). Unset: per-process state. Needs the "
        "`redis` extra.",
        default=None,
        repr=False,
    )
    redis_timeout: float = _field(
        "JWTGATE_REDIS_TIMEOUT",
        _parse_float,
        "Seconds to connect to Redis or wait for one answer; past it, DPoP requests get 503.",
        default=0.5,
    )


def mask_url(url: str) -> str:
    """*url* with any password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        return urlunsplit((parts.scheme, f"{user}:***@{netloc}", parts.path, parts.query, ""))
    except ValueError:
        return "<unparsable URL>"


class DPoPSettings(Protocol):
    """What ``validate_dpop`` reads of ``Settings``."""

    @property
    def dpop(self) -> str: ...
    @property
    def dpop_algorithms(self) -> Sequence[str]: ...
    @property
    def use_dpop_nonce(self) -> bool: ...
    @property
    def dpop_nonce_secrets(self) -> Sequence[str]: ...
    @property
    def dpop_replay_cache_size(self) -> int: ...
    @property
    def redis_url(self) -> str | None: ...


def validate_dpop(s: DPoPSettings) -> None:
    """Raise ``ConfigurationError`` for the first invalid DPoP, Redis or resource setting."""
    if s.dpop not in DPOP_MODES:
        raise ConfigurationError("dpop", f"{s.dpop!r} is not one of {', '.join(DPOP_MODES)}")
    algorithms = tuple(s.dpop_algorithms)
    if not algorithms:
        raise ConfigurationError("dpop_algorithms", "must name at least one algorithm")
    for alg in algorithms:
        if alg not in _KNOWN:
            raise ConfigurationError(
                "dpop_algorithms",
                f"{alg!r} is not an asymmetric JWS algorithm (proofs are signed with the "
                f"client's private key; use some of {', '.join(DPOP_ALGORITHMS)})",
            )
    for name in ("dpop_max_age", "dpop_nonce_lifetime", "redis_timeout"):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
            raise ConfigurationError(name, f"{value!r} must be a number of seconds > 0")
    size = s.dpop_replay_cache_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigurationError("dpop_replay_cache_size", f"{size!r} must be a whole number >= 1")
    if s.use_dpop_nonce:
        if not s.dpop_nonce_secrets:
            raise ConfigurationError(
                "dpop_nonce_secrets",
                "is empty but server nonces are on: set it to a random secret of at least 32 "
                "characters, the same on every worker and instance",
            )
        if any(len(secret) < 32 for secret in s.dpop_nonce_secrets):
            raise ConfigurationError("dpop_nonce_secrets", "each secret needs >= 32 characters")
    if s.redis_url is not None:
        _check_redis_url(s.redis_url)


def _check_redis_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ConfigurationError("redis_url", f"{mask_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigurationError(
            "redis_url",
            f"{mask_url(url)!r} is not a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379/0)",
        )
