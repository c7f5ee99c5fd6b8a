"""Settings of how long requests wait for key fetches (see ``Settings``).

The fetch itself is bounded by ``JWTGATE_HTTP_TOTAL_TIMEOUT``; this bounds what a
request pays for a fetch someone else (or the request itself) started.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

from .._exceptions import ConfigurationError
from .envparse import env_field as _field
from .envparse import parse_float as _parse_float

__all__ = ["FetchFieldValues", "FetchFields", "validate_fetch"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FetchFields:
    """How long a request waits for a key fetch in progress (see ``Settings``)."""

    jwks_fetch_wait: float = _field(
        "JWTGATE_JWKS_FETCH_WAIT",
        _parse_float,
        "Longest time a request waits for a key fetch in progress, seconds; then it is "
        "answered from the cached keys (stale ones included), or 503 with `Retry-After`. "
        "Capped at `JWTGATE_HTTP_TOTAL_TIMEOUT`; 0: never wait.",
        default=2.0,
    )


class FetchFieldValues(Protocol):
    """What ``validate_fetch`` reads."""

    @property
    def jwks_fetch_wait(self) -> float: ...


def validate_fetch(s: FetchFieldValues) -> None:
    """Raise ``ConfigurationError`` naming the first invalid field of *s*."""
    value = s.jwks_fetch_wait
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError("jwks_fetch_wait", f"{value!r} must be a finite number >= 0")
