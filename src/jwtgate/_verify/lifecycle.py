"""The ``Authenticator``'s start and stop face: load keys, keep them fresh, release clients.

Kept apart from the per-request steps (``authenticator.py``); it touches only the
public ``key_sources`` and ``introspector`` of the object it is mixed into; ``with`` and
``async with`` come from ``Closing``.
"""

from __future__ import annotations

from .._keys.group import KeySourceGroup
from .._keys.source import KeySetState
from .closing import Closing
from .introspection import Introspector

__all__ = ["Lifecycle"]


class Lifecycle(Closing):
    """Readiness, background refresh and closing, over ``key_sources`` and ``introspector``."""

    key_sources: KeySourceGroup
    introspector: Introspector | None

    @property
    def ready(self) -> bool:
        """True when every issuer's signing keys are loaded and may be used."""
        return self.key_sources.ready

    def state(self) -> tuple[KeySetState, ...]:
        """A snapshot of every key source (kids, age, last fetch and result, next refresh)."""
        return self.key_sources.state()

    async def keep_fresh(self) -> None:
        """Load the keys, then keep them fresh until cancelled (run it in the ASGI lifespan)."""
        await self.key_sources.keep_fresh()

    async def prefetch(self) -> None:
        """Load the keys now; a failure is logged by the key set and retried later."""
        await self.key_sources.prefetch()

    def prefetch_sync(self) -> None:
        """``prefetch`` for threads."""
        self.key_sources.prefetch_sync()

    async def aclose(self) -> None:
        """Release the async HTTP (and Redis) clients jwtgate created."""
        await self.key_sources.aclose()
        if self.introspector is not None:
            await self.introspector.aclose()

    def close(self) -> None:
        """Stop the refresh threads; release the sync HTTP (and Redis) clients jwtgate created."""
        self.key_sources.close()
        if self.introspector is not None:
            self.introspector.close()
