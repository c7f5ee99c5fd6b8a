"""How long a fetched key set lives, and when to fetch the next one. No I/O.

The lifetime comes from the response (``Cache-Control: max-age`` minus ``Age``, else
``Expires`` minus ``Date``), clamped to ``[jwks_min_ttl, jwks_max_ttl]``; ``no-store``
and ``no-cache`` mean the minimum; a response that says nothing gets ``jwks_cache_ttl``.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping

__all__ = ["REFRESH_AT", "REFRESH_JITTER", "RETRY_MAX", "lifetime", "next_refresh", "retry_delay"]

#: A refresh is scheduled at this fraction of the lifetime, plus jitter (below).
REFRESH_AT = 0.75
#: Random extra fraction of the lifetime, so that workers and instances do not refresh in step.
REFRESH_JITTER = 0.15
#: Longest wait between two retries of a failing refresh, seconds.
RETRY_MAX = 60.0


def lifetime(
    headers: Mapping[str, str], now: float, *, default: float, minimum: float, maximum: float
) -> float:
    """Seconds the response with these (lower-case) *headers* may be used."""
    server = _server_lifetime(headers, now)
    if server is None:
        return default
    return min(max(server, minimum), maximum)


def _server_lifetime(headers: Mapping[str, str], now: float) -> float | None:
    directives = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        try:
            max_age = int(directives["max-age"])
        except ValueError:
            return 0.0  # RFC 9111 §4.2.1: an invalid max-age means stale.
        return max(max_age - _seconds(headers.get("age")), 0.0)
    if "expires" in headers:
        expires = _http_date(headers["expires"])
        if expires is None:
            return 0.0  # RFC 9111 §5.3: an invalid Expires means already expired.
        date = _http_date(headers.get("date", "")) or now
        return max(expires - date, 0.0)
    return None


def _seconds(value: str | None) -> float:
    try:
        return max(float(int(value or "0")), 0.0)
    except ValueError:
        return 0.0


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def next_refresh(fetched_at: float, life: float, cooldown: float, jitter: float) -> float:
    """When to refresh a set fetched at *fetched_at*; *jitter* is uniform in [0, 1)."""
    ahead = life * (REFRESH_AT + REFRESH_JITTER * jitter)
    return fetched_at + max(ahead, cooldown, 0.1)


def retry_delay(failures: int, cooldown: float, jitter: float) -> float:
    """Seconds before retrying after *failures* consecutive failed fetches (exponential)."""
    base = max(cooldown, 1.0) * 2.0 ** min(max(failures - 1, 0), 16)
    base = min(base, max(RETRY_MAX, cooldown))
    return base * (1.0 + 0.25 * jitter) if math.isfinite(base) else RETRY_MAX
