"""What the authenticator needs from a key source (remote JWKS or static keys), and its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .jwk import JWK, KeySet

__all__ = ["KeySetState", "KeySource"]


@dataclass(frozen=True, slots=True)
class KeySetState:
    """A snapshot of one key source, for health checks, metrics and debugging.

    Times are clock seconds (``time.time()`` by default); None when it has not happened.
    """

    issuer: str
    #: Where the keys come from: the JWKS URL, ``discovery``, or a static source.
    source: str
    kids: tuple[str | None, ...]
    #: True when keys are loaded and may be used.
    ready: bool
    #: True when the set is past its lifetime (served only while refreshes fail).
    stale: bool
    fetched_at: float | None
    age: float | None
    expires_at: float | None
    last_attempt: float | None
    #: Why the last fetch failed, or None when it succeeded.
    last_error: str | None
    next_refresh: float | None
    fetch_count: int
    #: True while a background refresher keeps this set fresh.
    refreshing: bool
    #: A configuration error the last fetch revealed (e.g. discovery naming another
    #: issuer): retrying will not help, the settings must change.
    config_error: str | None = None


class KeySource(Protocol):
    """A source of verification keys with async and sync faces, e.g. ``RemoteKeySet``."""

    @property
    def keys(self) -> KeySet | None:
        """The current key set; a new object after every successful refresh."""

    @property
    def fresh_until(self) -> float:
        """Until this clock time, ``get_key`` would answer from ``keys`` without fetching.

        The token cache's fast path: before it, a cached token skips ``get_key``.
        ``-math.inf`` (always consult ``get_key``) is a correct, slower answer.
        """

    @property
    def ready(self) -> bool:
        """True when keys are loaded and may be used."""

    def state(self) -> KeySetState:
        """A snapshot of the source's state."""

    async def get_key(self, kid: str | None, alg: str) -> JWK:
        """The key for a token's ``kid``/``alg``."""

    def get_key_sync(self, kid: str | None, alg: str) -> JWK:
        """``get_key`` for threads."""

    async def refresh(self) -> KeySet:
        """Load the keys now (within the source's rules)."""

    def refresh_sync(self) -> KeySet:
        """``refresh`` for threads."""

    async def keep_fresh(self) -> None:
        """Keep the keys fresh until cancelled (returns at once when there is nothing to do)."""

    def start_refresh_thread(self) -> None:
        """Keep the keys fresh from a daemon thread, until ``close``."""

    async def aclose(self) -> None:
        """Release async resources."""

    def close(self) -> None:
        """Stop the refresh thread and release sync resources."""
