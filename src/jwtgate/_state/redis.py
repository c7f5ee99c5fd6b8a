"""Shared state on Redis (redis-py): one connection pool per face, bounded waits.

``RedisState`` owns the clients (async and sync) of one Redis URL, so that the
replay cache and any later shared cache reuse the same pools; ``RedisReplayStore``
is the DPoP replay cache on top of it (``SET key NX PX ttl``: record and check in one
atomic command, so every worker and instance sharing the Redis sees one answer).

While Redis cannot be reached every call raises ``StateUnavailable`` (the caller
answers 503): a proof is never accepted unchecked. After a failure, calls fail at
once for ``cooldown`` seconds instead of each waiting for the timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from .._config.dpop_fields import mask_url
from .._dpop_exceptions import StateUnavailable

__all__ = ["RedisReplayStore", "RedisState"]

logger = logging.getLogger("jwtgate")

T = TypeVar("T")
_MAX_CONNECTIONS = 64


class RedisState:
    """The Redis clients of one URL: a pooled async client per event loop, one sync client.

    Connections are opened on first use (never at import or construction, so forking
    servers do not share sockets), with *timeout* seconds for connecting and for each
    answer, and one immediate retry (a pooled connection may have died with a restart).
    The URL's password never appears in ``repr``, logs or errors.
    """

    def __init__(self, url: str, *, timeout: float = 0.5, cooldown: float = 1.0) -> None:
        self._url = url
        self.label = mask_url(url)
        self._timeout = timeout
        self._cooldown = cooldown
        self._async: tuple[asyncio.AbstractEventLoop, redis.asyncio.Redis] | None = None
        self._sync: redis.Redis | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False

    def __repr__(self) -> str:
        return f"RedisState({self.label!r})"

    def client(self) -> redis.asyncio.Redis:
        """The async client for the running event loop (pools are bound to their loop)."""
        loop = asyncio.get_running_loop()
        current = self._async
        if current is None or current[0] is not loop:
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self._url,
                max_connections=_MAX_CONNECTIONS,
                timeout=self._timeout,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=AsyncRetry(NoBackoff(), 1),
            )
            current = self._async = (loop, redis.asyncio.Redis(connection_pool=pool))
        return current[1]

    def sync_client(self) -> redis.Redis:
        """The sync client (thread-safe; its pool is shared by the threads)."""
        with self._lock:
            if self._sync is None:
                pool = redis.BlockingConnectionPool.from_url(
                    self._url,
                    max_connections=_MAX_CONNECTIONS,
                    timeout=self._timeout,
                    socket_timeout=self._timeout,
                    socket_connect_timeout=self._timeout,
                    retry=Retry(NoBackoff(), 1),
                )
                self._sync = redis.Redis(connection_pool=pool)
            return self._sync

    async def run(self, call: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """``await call(client)``; raises ``StateUnavailable`` when Redis cannot answer."""
        self._check_cooldown()
        try:
            result = await call(self.client())
        except (redis.RedisError, OSError) as exc:
            raise self._failed(exc) from None
        self._up()
        return result

    def run_sync(self, call: Callable[[redis.Redis], T]) -> T:
        """``call(sync_client)``; raises ``StateUnavailable`` when Redis cannot answer."""
        self._check_cooldown()
        try:
            result = call(self.sync_client())
        except (redis.RedisError, OSError) as exc:
            raise self._failed(exc) from None
        self._up()
        return result

    def _check_cooldown(self) -> None:
        if self._down and time.monotonic() < self._down_until:
            raise StateUnavailable("The shared state is unreachable.")

    def _failed(self, exc: BaseException) -> StateUnavailable:
        self._down_until = time.monotonic() + self._cooldown
        if not self._down:
            self._down = True
            # The exception's text may carry the host but never the password; the type is enough.
            logger.warning("Redis at %s is unreachable (%s)", self.label, type(exc).__name__)
        return StateUnavailable("The shared state is unreachable.")

    def _up(self) -> None:
        if self._down:
            self._down = False
            logger.warning("Redis at %s is reachable again", self.label)

    async def aclose(self) -> None:
        """Close the async pool of the running loop (others are dropped with their loop)."""
        current, self._async = self._async, None
        if current is not None and current[0] is asyncio.get_running_loop():
            await current[1].aclose(close_connection_pool=True)

    def close(self) -> None:
        """Close the sync pool."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()
            client.connection_pool.disconnect()


class RedisReplayStore:
    """The DPoP replay cache on Redis: shared by every worker and instance."""

    shared = True

    def __init__(self, state: RedisState, *, prefix: str = "jwtgate:replay:") -> None:
        self.state = state
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"RedisReplayStore({self.state!r})"

    async def remember(self, key: str, ttl: float) -> bool:
        """``SET prefix+key 1 NX PX ttl``: True when the key was new."""
        name, px = self._prefix + key, max(1, int(ttl * 1000))

        async def call(client: redis.asyncio.Redis) -> Any:
            return await client.set(name, b"1", nx=True, px=px)

        return bool(await self.state.run(call))

    def remember_sync(self, key: str, ttl: float) -> bool:
        """``remember`` for threads."""
        name, px = self._prefix + key, max(1, int(ttl * 1000))
        return bool(self.state.run_sync(lambda client: client.set(name, b"1", nx=True, px=px)))

    async def aclose(self) -> None:
        """Close the async connections."""
        await self.state.aclose()

    def close(self) -> None:
        """Close the sync connections."""
        self.state.close()
