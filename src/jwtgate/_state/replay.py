"""The replay store: "has this key been seen within its lifetime?", answered atomically.

A DPoP proof's ``jti`` may be used once within the proof's acceptance window (RFC 9449
§11.1). ``remember`` records a key and says whether it was new; the check and the
record are one step, so two requests racing with one proof cannot both win.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .._dpop_exceptions import StateUnavailable

__all__ = ["MemoryReplayStore", "ReplayStore"]


@runtime_checkable
class ReplayStore(Protocol):
    """Where used one-time keys are remembered; async and sync faces."""

    #: True when every worker and instance sharing the configuration sees the same entries.
    shared: bool

    async def remember(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds; True when it was not recorded already.

        Raises ``StateUnavailable`` when the store cannot answer: never guess.
        """
        ...

    def remember_sync(self, key: str, ttl: float) -> bool:
        """``remember`` for threads."""
        ...

    async def aclose(self) -> None:
        """Release async resources (connections)."""
        ...

    def close(self) -> None:
        """Release sync resources (connections)."""
        ...


class MemoryReplayStore:
    """A bounded in-process replay store: per process, so per worker.

    Behind several workers or instances a proof could be replayed once per process:
    use ``RedisReplayStore`` there. When the store is full of entries that are still
    live, ``remember`` raises ``StateUnavailable`` (503) rather than forgetting one
    early, which would let that proof be replayed.
    """

    shared = False

    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        # Insertion order is expiry order for a constant ttl: prune from the front.
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def __repr__(self) -> str:
        return f"MemoryReplayStore(max_entries={self._max})"

    async def remember(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds; True when it was new (no I/O: never waits)."""
        return self.remember_sync(key, ttl)

    def remember_sync(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds; True when it was new."""
        now = self._clock()
        with self._lock:
            expiry = self._expiry.get(key)
            if expiry is not None and expiry > now:
                return False
            if len(self._expiry) >= self._max:
                self._prune(now)
                if len(self._expiry) >= self._max:
                    raise StateUnavailable("Too many recent DPoP proofs to check for replay.")
            self._expiry.pop(key, None)  # Re-inserted at the end: order stays expiry order.
            self._expiry[key] = now + ttl
            return True

    def _prune(self, now: float) -> None:
        expired = []
        for key, expiry in self._expiry.items():
            if expiry > now:
                break
            expired.append(key)
        for key in expired:
            del self._expiry[key]
        if len(self._expiry) >= self._max:
            # Entries with a longer ttl may sit before shorter ones: a full sweep, rarely.
            for key in [k for k, e in self._expiry.items() if e <= now]:
                del self._expiry[key]

    async def aclose(self) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Nothing to release."""
