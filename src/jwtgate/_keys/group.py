"""Several key sources kept as one: loaded, refreshed and closed together.

Background refresh: the async face runs ``keep_fresh()`` inside the ASGI lifespan
(``JWTGateMiddleware`` does it); the sync face starts one daemon thread per key
source on the first ``authenticate_sync`` in each process (so after a pre-fork too),
stopped by ``close()``. Without either, keys are refreshed on demand.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import anyio

from .._exceptions import KeySetUnavailable
from .source import KeySetState, KeySource

__all__ = ["KeySourceGroup"]

# Bumped in a forked child: refresh threads do not survive a fork, and must be restarted.
_forks = [0]

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _forks.__setitem__(0, _forks[0] + 1))


class KeySourceGroup:
    """The key sources of every trusted issuer, with one lifecycle."""

    def __init__(self, sources: Sequence[KeySource], *, background_refresh: bool) -> None:
        self.sources = tuple(sources)
        self.background_refresh = background_refresh
        self._threads_for = -1  # The process generation whose refresh threads run.

    @property
    def ready(self) -> bool:
        """True when every source's signing keys are loaded and may be used."""
        return all(source.ready for source in self.sources)

    def state(self) -> tuple[KeySetState, ...]:
        """A snapshot of every source (kids, age, last fetch and result, next refresh)."""
        return tuple(source.state() for source in self.sources)

    async def keep_fresh(self) -> None:
        """Load the keys, then keep them fresh until cancelled (without background
        refresh: load them once)."""
        if not self.background_refresh:
            await self.prefetch()
            return
        async with anyio.create_task_group() as tasks:
            for source in self.sources:
                tasks.start_soon(source.keep_fresh)

    async def prefetch(self) -> None:
        """Load the keys now; a failure is logged by the key set and retried later."""

        async def one(source: KeySource) -> None:
            with contextlib.suppress(KeySetUnavailable):
                await source.refresh()

        async with anyio.create_task_group() as tasks:
            for source in self.sources:
                tasks.start_soon(one, source)

    def prefetch_sync(self) -> None:
        """``prefetch`` for threads."""
        for source in self.sources:
            with contextlib.suppress(KeySetUnavailable):
                source.refresh_sync()

    def start_refresh_threads(self) -> None:
        """Start each source's daemon refresh thread once per process (after a fork too)."""
        if self._threads_for == _forks[0]:
            return
        self._threads_for = _forks[0]
        if self.background_refresh:
            for source in self.sources:
                source.start_refresh_thread()

    async def aclose(self) -> None:
        """Release the async HTTP clients the sources created."""
        for source in self.sources:
            await source.aclose()

    def close(self) -> None:
        """Stop the refresh threads and release the sync HTTP clients."""
        for source in self.sources:
            source.close()
        self._threads_for = -1
