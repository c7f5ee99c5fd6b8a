"""Introspection answers shared by every worker and instance through Redis (``JWTGATE_REDIS_URL``).

Stored under ``jwtgate:introspection:<endpoint namespace>:<token digest>`` (never the
token), the value is the answer and the time until which it may be reused, and
Redis' own expiry is set to the same bound, so an entry never outlives the token's
``exp`` nor the configured maximum age. The connections are the shared state's
(``_state/redis.py``: bounded waits, a cooldown after a failure, logged once).
Redis is a cache here, not a source of truth: while it is unreachable each instance
asks the authorization server itself.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._config.settings import Settings
from .._dpop_exceptions import StateUnavailable
from .._exceptions import ConfigurationError

if TYPE_CHECKING:  # redis-py is optional (the ``redis`` extra); imported when configured.
    from .._state.redis import RedisState

__all__ = ["SharedAnswers", "shared_answers"]


def shared_answers(settings: Settings, namespace: str) -> SharedAnswers | None:
    """The shared answer cache *settings* ask for (``redis_url``), or None."""
    if settings.redis_url is None:
        return None
    try:
        from .._state.redis import RedisState
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "redis_url", "is set but redis-py is not installed: pip install 'jwtgate[redis]'"
        ) from None
    return SharedAnswers(RedisState(settings.redis_url, timeout=settings.redis_timeout), namespace)


class SharedAnswers:
    """Introspection answers in Redis, by token digest; an unreachable Redis is a miss."""

    def __init__(self, state: RedisState, namespace: str) -> None:
        self.state = state
        self._prefix = f"jwtgate:introspection:{namespace}:"

    def __repr__(self) -> str:
        return f"SharedAnswers({self.state!r})"

    def _key(self, digest: bytes) -> str:
        return self._prefix + digest.hex()

    def get(self, digest: bytes) -> tuple[dict[str, Any], float] | None:
        """The answer kept for *digest* and until when it may be reused, or None."""
        key = self._key(digest)
        try:
            return _decode(self.state.run_sync(lambda client: client.get(key)))
        except StateUnavailable:
            return None

    def put(self, digest: bytes, answer: Mapping[str, Any], until: float, now: float) -> None:
        """Share *answer* for *digest* until *until* (seconds since the epoch)."""
        encoded = _encode(answer, until, now)
        if encoded is None:
            return
        key, (value, px) = self._key(digest), encoded
        # Failures are logged by the shared state; the answer is still kept in this process.
        with contextlib.suppress(StateUnavailable):
            self.state.run_sync(lambda client: client.set(key, value, px=px))

    async def aget(self, digest: bytes) -> tuple[dict[str, Any], float] | None:
        """``get`` for the event loop."""
        key = self._key(digest)

        async def call(client: Any) -> Any:
            return await client.get(key)

        try:
            return _decode(await self.state.run(call))
        except StateUnavailable:
            return None

    async def aput(
        self, digest: bytes, answer: Mapping[str, Any], until: float, now: float
    ) -> None:
        """``put`` for the event loop."""
        encoded = _encode(answer, until, now)
        if encoded is None:
            return
        key, (value, px) = self._key(digest), encoded

        async def call(client: Any) -> Any:
            return await client.set(key, value, px=px)

        with contextlib.suppress(StateUnavailable):
            await self.state.run(call)

    def close(self) -> None:
        """Release the sync connections."""
        self.state.close()

    async def aclose(self) -> None:
        """Release the async connections (of the running loop)."""
        await self.state.aclose()


def _encode(answer: Mapping[str, Any], until: float, now: float) -> tuple[bytes, int] | None:
    ttl = math.floor((until - now) * 1000)
    if ttl <= 0:
        return None
    return json.dumps({"answer": answer, "until": until}).encode(), ttl


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
