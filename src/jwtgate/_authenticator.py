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

from ._config import Settings
from ._exceptions import KeySetUnavailable
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

    def __repr__(self) -> str:
        return f"Authenticator(issuer={self.settings.issuer!r}, key_set={self.key_set!r})"

    @property
    def ready(self) -> bool:
        """True when signing keys are loaded and may be used."""
        return self.key_set.ready

    async def authenticate(self, token: str) -> VerifiedToken:
        """Verify *token*; raises ``AuthError`` (``KeySetUnavailable`` when keys cannot be had)."""
        unverified = self.verifier.parse(token)
        key = await self.key_set.get_key(unverified.kid, unverified.alg)
        return self.verifier.verify_with_key(unverified, key, self._clock())

    def authenticate_sync(self, token: str) -> VerifiedToken:
        """``authenticate`` for threads (WSGI, CLI): blocks while keys are fetched."""
        unverified = self.verifier.parse(token)
        key = self.key_set.get_key_sync(unverified.kid, unverified.alg)
        return self.verifier.verify_with_key(unverified, key, self._clock())

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
