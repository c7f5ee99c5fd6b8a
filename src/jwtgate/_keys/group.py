"""Several key sources kept as one: loaded, refreshed and closed together.

Background refresh: the async face runs ``keep_fresh()`` inside the ASGI lifespan
(``JWTGateMiddleware`` does it); the sync face starts its refresher on the first
``authenticate_sync`` in each process (so after a pre-fork too), stopped by ``close()``.
Without either, keys are refreshed on demand.

A few sources (up to ``EAGER_LIMIT``) are loaded at startup and each keeps itself fresh.
More (a deployment trusting hundreds of issuers) are loaded lazily, on the first token
that names each, and one scheduler refreshes those in use when they fall due, a few at a
time: startup costs the same for 10 or 1,000 issuers, and no crowd of tasks or threads
wakes together.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Sequence

import anyio

from .._exceptions import KeySetUnavailable
from .source import KeySetState, KeySource

__all__ = ["EAGER_LIMIT", "KeySourceGroup"]

#: Up to this many sources are loaded at startup, each with its own refresher.
EAGER_LIMIT = 16
#: The lazy scheduler looks again at least this often (seconds): sources loaded meanwhile
#: on demand join the schedule.
_TICK = 5.0
_PARALLEL = 4  # Refreshes the lazy scheduler runs at once.

# Bumped in a forked child: refresh threads do not survive a fork, and must be restarted.
_forks = [0]

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _forks.__setitem__(0, _forks[0] + 1))


class KeySourceGroup:
    """The key sources of every trusted issuer, with one lifecycle."""

    def __init__(
        self,
        sources: Sequence[KeySource],
        *,
        background_refresh: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = tuple(sources)
        self.background_refresh = background_refresh
        #: True when sources are loaded on first use (more than ``EAGER_LIMIT`` of them).
        self.lazy = len(self.sources) > EAGER_LIMIT
        self._clock = clock
        self._threads_for = -1  # The process generation whose refresh threads run.
        self._stop = threading.Event()

    @property
    def ready(self) -> bool:
        """True when every source's signing keys are loaded and may be used.

        Lazily loaded: every source asked for keys so far has them.
        """
        if self.lazy:
            return all(s.ready or s.state().last_attempt is None for s in self.sources)
        return all(source.ready for source in self.sources)

    def state(self) -> tuple[KeySetState, ...]:
        """A snapshot of every source (kids, age, last fetch and result, next refresh)."""
        return tuple(source.state() for source in self.sources)

    async def keep_fresh(self) -> None:
        """Load the keys, then keep them fresh until cancelled (without background
        refresh: load them once)."""
        if self.lazy:
            if self.background_refresh:
                await self._schedule()
            return
        if not self.background_refresh:
            await self.prefetch()
            return
        async with anyio.create_task_group() as tasks:
            for source in self.sources:
                tasks.start_soon(source.keep_fresh)

    def due(self) -> tuple[list[KeySource], float]:
        """The loaded sources whose refresh is due, and seconds until the next falls due."""
        now, due, wait = self._clock(), [], _TICK
        for source in self.sources:
            if not source.ready:
                continue  # Not asked for yet (or failing: its own retry rules apply on demand).
            at = source.state().next_refresh
            if at is None or math.isinf(at):
                continue
            if at <= now:
                due.append(source)
            else:
                wait = min(wait, at - now)
        return due, max(wait, 0.05)

    async def _schedule(self) -> None:
        limiter = anyio.CapacityLimiter(_PARALLEL)

        async def one(source: KeySource) -> None:
            async with limiter:
                with contextlib.suppress(KeySetUnavailable):
                    await source.refresh()

        while True:
            due, wait = self.due()
            async with anyio.create_task_group() as tasks:
                for source in due:
                    tasks.start_soon(one, source)
            await anyio.sleep(wait)

    def _schedule_sync(self) -> None:
        while not self._stop.is_set():
            due, wait = self.due()
            for source in due:
                with contextlib.suppress(KeySetUnavailable):
                    source.refresh_sync()
            self._stop.wait(wait)

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
        if not self.background_refresh:
            return
        if self.lazy:
            self._stop.clear()
            name = "jwtgate-key-refresh"
            threading.Thread(target=self._schedule_sync, name=name, daemon=True).start()
            return
        for source in self.sources:
            source.start_refresh_thread()

    async def aclose(self) -> None:
        """Release the async HTTP clients the sources created."""
        for source in self.sources:
            await source.aclose()

    def close(self) -> None:
        """Stop the refresh threads and release the sync HTTP clients."""
        self._stop.set()
        for source in self.sources:
            source.close()
        self._threads_for = -1
