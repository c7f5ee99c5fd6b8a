"""A token string in, a ``VerifiedToken`` or one ``AuthError`` out.

The one object the ASGI middleware, the WSGI middleware and the CLI share: the
verification core (``TokenVerifier``, no I/O) joined to a key source that may
fetch. Async and sync faces take the same steps in the same order.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import httpx

from ._cache import TokenCache
from ._config import Settings
from ._exceptions import AuthError, KeySetUnavailable
from ._remote import RemoteKeySet
from ._verifier import TokenVerifier, VerifiedToken

__all__ = ["Authenticator"]


class Authenticator:
    """Verify bearer tokens under one ``Settings``, fetching keys as the cache rules allow.

    *key_set* replaces the key source; *http_client*/*transport* (async) and
    *sync_http_client*/*sync_transport* replace the httpx clients a default
    ``RemoteKeySet`` uses; *clock* (seconds since the epoch) replaces ``time.time``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        key_set: RemoteKeySet | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_http_client: httpx.Client | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.key_set = key_set or RemoteKeySet(
            settings,
            http_client=http_client,
            transport=transport,
            sync_http_client=sync_http_client,
            sync_transport=sync_transport,
            clock=clock,
        )
        self.verifier = TokenVerifier(settings)
        self._clock = clock
        size = settings.token_cache_size
        self.token_cache = TokenCache(size, leeway=settings.leeway) if size else None

    def __repr__(self) -> str:
        return f"Authenticator(issuer={self.settings.issuer!r}, key_set={self.key_set!r})"

    @property
    def ready(self) -> bool:
        """True when signing keys are loaded and may be used."""
        return self.key_set.ready

    async def authenticate(self, token: str) -> VerifiedToken:
        """Verify *token*; raises ``AuthError`` (``KeySetUnavailable`` when keys cannot be had)."""
        cache = self.token_cache
        if cache is not None and (entry := cache.lookup(token)) is not None:
            # A hit still goes through the key source (refresh rules, key removal,
            # unavailability) and is then rechecked for key set identity and time.
            await self.key_set.get_key(entry.kid, entry.alg)
            hit = cache.valid(token, entry, self.key_set.keys, self._clock())
            if hit is not None:
                return hit
        unverified = self.verifier.parse(token)
        key = await self.key_set.get_key(unverified.kid, unverified.alg)
        verified = self.verifier.verify_with_key(unverified, key, self._clock())
        if cache is not None:
            self._remember(cache, token, verified, key)
        return verified

    def authenticate_sync(self, token: str) -> VerifiedToken:
        """``authenticate`` for threads (WSGI, CLI): blocks while keys are fetched."""
        cache = self.token_cache
        if cache is not None and (entry := cache.lookup(token)) is not None:
            self.key_set.get_key_sync(entry.kid, entry.alg)
            hit = cache.valid(token, entry, self.key_set.keys, self._clock())
            if hit is not None:
                return hit
        unverified = self.verifier.parse(token)
        key = self.key_set.get_key_sync(unverified.kid, unverified.alg)
        verified = self.verifier.verify_with_key(unverified, key, self._clock())
        if cache is not None:
            self._remember(cache, token, verified, key)
        return verified

    def _remember(
        self, cache: TokenCache, token: str, verified: VerifiedToken, key: object
    ) -> None:
        # Tie the entry to the key set that holds *key* right now; if another thread
        # swapped the set in between and the key is gone from it, do not cache.
        keys = self.key_set.keys
        try:
            if (
                keys is None
                or keys.find(verified.header.get("kid"), verified.header["alg"]) is not key
            ):
                return
        except AuthError:
            return
        cache.put(token, verified, keys)

    async def prefetch(self) -> None:
        """Load the keys now; a failure is logged by the key set and retried on demand."""
        with contextlib.suppress(KeySetUnavailable):
            await self.key_set.refresh()

    def prefetch_sync(self) -> None:
        """``prefetch`` for threads."""
        with contextlib.suppress(KeySetUnavailable):
            self.key_set.refresh_sync()

    async def aclose(self) -> None:
        """Release the async HTTP client, if jwtgate created it."""
        await self.key_set.aclose()

    def close(self) -> None:
        """Release the sync HTTP client, if jwtgate created it."""
        self.key_set.close()
