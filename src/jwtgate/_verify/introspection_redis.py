"""Introspection answers shared by every worker and instance through Redis (``JWTGATE_REDIS_URL``).

Stored under ``jwtgate:introspection:<endpoint namespace>:<token digest>`` (never the
token), the value is the answer and the time until which it may be reused, and
Redis' own expiry is set to the same bound, so an entry never outlives the token's
``exp`` nor the configured maximum age. Redis is a cache here, not a source of
truth: while it is unreachable each instance asks the authorization server itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # redis is optional (the ``redis`` extra); imported when first used.
    import redis
    import redis.asyncio

__all__ = ["SharedAnswers", "redis_clients"]

logger = logging.getLogger("jwtgate")

# Short socket timeouts: a cache that answers slower than the authorization server is no cache.
_TIMEOUT = 0.5


def redis_clients(url: str) -> tuple[redis.Redis, redis.asyncio.Redis]:
    """A sync and an asyncio client for *url* (the one place they are built)."""
    try:
        import redis
        import redis.asyncio
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "JWTGATE_REDIS_URL needs the redis package: pip install 'jwtgate[redis]'"
        ) from None
    options: dict[str, Any] = {"socket_timeout": _TIMEOUT, "socket_connect_timeout": _TIMEOUT}
    return redis.Redis.from_url(url, **options), redis.asyncio.Redis.from_url(url, **options)


class SharedAnswers:
    """Introspection answers in Redis, by token digest; failures are logged, never raised."""

    def __init__(self, url: str, namespace: str) -> None:
        self._url = url
        self._prefix = f"jwtgate:introspection:{namespace}:"
        self._sync: redis.Redis | None = None
        self._async: redis.asyncio.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failing = False

    def __repr__(self) -> str:
        return f"SharedAnswers(prefix={self._prefix!r})"  # The URL may hold a password.

    def _key(self, digest: bytes) -> str:
        return self._prefix + digest.hex()

    def get(self, digest: bytes) -> tuple[dict[str, Any], float] | None:
        """The answer kept for *digest* and until when it may be reused, or None."""
        if self._sync is None:
            self._sync = redis_clients(self._url)[0]
        try:
            return self._decode(self._sync.get(self._key(digest)))
        except Exception as exc:
            self._failed(exc)
            return None

    def put(self, digest: bytes, answer: Mapping[str, Any], until: float, now: float) -> None:
        """Share *answer* for *digest* until *until* (seconds since the epoch)."""
        if self._sync is None:
            self._sync = redis_clients(self._url)[0]
        encoded = self._encode(answer, until, now)
        if encoded is None:
            return
        try:
            self._sync.set(self._key(digest), encoded[0], px=encoded[1])
            self._recovered()
        except Exception as exc:
            self._failed(exc)

    async def aget(self, digest: bytes) -> tuple[dict[str, Any], float] | None:
        """``get`` for the event loop."""
        try:
            return self._decode(await self._client().get(self._key(digest)))
        except Exception as exc:
            self._failed(exc)
            return None

    async def aput(
        self, digest: bytes, answer: Mapping[str, Any], until: float, now: float
    ) -> None:
        """``put`` for the event loop."""
        encoded = self._encode(answer, until, now)
        if encoded is None:
            return
        try:
            await self._client().set(self._key(digest), encoded[0], px=encoded[1])
            self._recovered()
        except Exception as exc:
            self._failed(exc)

    def _client(self) -> redis.asyncio.Redis:
        # An asyncio client belongs to the loop it first ran on: one per loop.
        loop = asyncio.get_running_loop()
        if self._async is None or self._loop is not loop:
            self._async, self._loop = redis_clients(self._url)[1], loop
        return self._async

    @staticmethod
    def _encode(answer: Mapping[str, Any], until: float, now: float) -> tuple[bytes, int] | None:
        ttl = math.floor((until - now) * 1000)
        if ttl <= 0:
            return None
        return json.dumps({"answer": answer, "until": until}).encode(), ttl

    @staticmethod
    def _decode(value: Any) -> tuple[dict[str, Any], float] | None:
        if value is None:
            return None
        try:
            stored = json.loads(value)
            answer, until = stored["answer"], stored["until"]
        except (ValueError, TypeError, KeyError, RecursionError):
            return None  # Not ours, or damaged: ask the authorization server instead.
        if not isinstance(answer, dict) or type(until) not in (int, float):
            return None
        return answer, float(until)

    def _failed(self, exc: Exception) -> None:
        if not self._failing:
            logger.warning(
                "Shared introspection cache (JWTGATE_REDIS_URL) unavailable (%s): "
                "asking the authorization server directly",
                type(exc).__name__,
            )
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            logger.info("Shared introspection cache (JWTGATE_REDIS_URL) reachable again")
        self._failing = False

    def close(self) -> None:
        """Release the sync client's connections."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        """Release the asyncio client's connections (on the loop they belong to)."""
        if self._async is not None and self._loop is asyncio.get_running_loop():
            await self._async.aclose()
        self._async = self._loop = None
