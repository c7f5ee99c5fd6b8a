"""The I/O-free half of ``RemoteKeySet``: what is cached, when it may be used, when to fetch.

Decisions only: the ``RemoteKeySet`` subclass does the fetching (async and sync) and
reports back through ``_begin``/``_succeeded``/``_failed``. See ``_remote`` for the rules.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable

from .._config.settings import Settings
from .._events import Event, EventHook, emit
from .._exceptions import KeySetUnavailable, UnknownKey
from . import fetch
from .diagnostics import describe_source, source_name, unknown_kid_message
from .jwk import JWK, KeySet
from .lifetime import next_refresh, retry_delay
from .source import KeySetState

# Jitter from a generator of our own: the global `random` state is the application's.
JITTER = random.Random()  # noqa: S311 (timing jitter, not a secret)

__all__ = ["JITTER", "KeyCache"]

logger = logging.getLogger("jwtgate")

_NEGATIVE_MAX = 10_000  # Bounded memory under a flood of random kids.


class KeyCache:
    """The cache state of one issuer's JWKS and the rules over it; no I/O."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        on_event: EventHook | None = None,
        random: Callable[[], float] = JITTER.random,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._random = random
        self._on_event = on_event
        self._issuer = settings.issuer
        self._jwks_url = settings.jwks_url
        self._max_stale = settings.jwks_max_stale
        self._cooldown = settings.jwks_refetch_cooldown
        #: The current key set (possibly stale), or None before the first successful fetch.
        #: Every successful refresh installs a new ``KeySet`` object: identity tells a change.
        self.keys: KeySet | None = None
        #: Until this clock time, ``get_key`` answers from ``keys`` alone (no fetch, no wait).
        self.fresh_until = -math.inf
        self._expires_at = -math.inf
        self._last_attempt = -math.inf
        self._next_refresh = -math.inf
        self._failures = 0
        self._generation = 0
        self._negative: dict[str, float] = {}
        self._background = 0
        #: Why the last fetch failed, or None after a success.
        self.last_error: str | None = None
        #: When the last successful fetch completed (clock time), or None.
        self.fetched_at: float | None = None
        #: How many fetches of the JWKS (and discovery) were attempted.
        self.fetch_count = 0
        #: A configuration error the issuer revealed (discovery naming another issuer).
        self.config_error: str | None = None
        logger.info("%s", describe_source(settings))

    @property
    def ready(self) -> bool:
        """True when a key set is cached and may still be used."""
        return self.keys is not None and self._clock() < self._expires_at + self._max_stale

    def state(self) -> KeySetState:
        """A snapshot of the cache: kids, age, last fetch and its result, next refresh."""
        now, fetched, keys = self._clock(), self.fetched_at, self.keys

        def known(t: float) -> float | None:
            return t if math.isfinite(t) else None

        return KeySetState(
            issuer=self._issuer,
            source=self._jwks_url or "discovery",
            kids=keys.kids if keys else (),
            ready=self.ready,
            stale=keys is not None and now >= self._expires_at,
            fetched_at=fetched,
            age=None if fetched is None else now - fetched,
            expires_at=known(self._expires_at),
            last_attempt=known(self._last_attempt),
            last_error=self.last_error,
            config_error=self.config_error,
            next_refresh=known(max(self._next_refresh, self._last_attempt + self._cooldown)),
            fetch_count=self.fetch_count,
            refreshing=self._background > 0,
        )

    def _lookup(self, kid: str | None, alg: str) -> JWK | None:
        """The key, or None when a fetch must come first; raises when the answer is known."""
        now, keys = self._clock(), self.keys
        if keys is None or now >= self._expires_at + self._max_stale:
            self._emit("miss", kid)
            return None
        if kid is None or keys.has_kid(kid):
            if now < self._expires_at:
                if self._on_event is not None:  # The hot path: no call without a hook.
                    self._emit("hit", kid)
            elif not self._background and self._may_fetch(now):
                return None  # No refresher is running: refresh on demand.
            else:
                self._emit("stale", kid)
            return keys.find(kid, alg)
        if self._negative.get(kid, -math.inf) > now:
            self._emit("negative_hit", kid)
            raise self._unknown(now)
        self._emit("miss", kid)
        if not self._may_fetch(now):
            raise self._unknown(now)
        return None

    def _after_fetch(self, keys: KeySet, kid: str | None, alg: str) -> JWK:
        try:
            return keys.find(kid, alg)
        except UnknownKey:
            now = self._clock()
            if kid is not None:
                # Once per kid and cooldown (after a fetch), so a flood cannot fill the log.
                logger.info("%s", unknown_kid_message(kid, keys.kids))
                self._remember_absent(kid, now)
            raise self._unknown(now) from None

    def _unknown(self, now: float) -> Exception:
        if self.last_error is not None or now >= self._expires_at:
            # The key may be new and the set could not be refreshed: say "later", not "invalid".
            wait = self._last_attempt + self._cooldown - now
            return KeySetUnavailable(
                "The issuer's signing keys could not be refreshed; try again later.",
                retry_after=math.ceil(max(wait, 1.0)),
            )
        return UnknownKey("The token's key is not in the issuer's key set.")

    def _remember_absent(self, kid: str, now: float) -> None:
        negative = self._negative
        if len(negative) >= _NEGATIVE_MAX:
            # list() copies atomically under the GIL: sync-face threads may insert meanwhile.
            for old, until in list(negative.items()):
                if until <= now:
                    negative.pop(old, None)
            if len(negative) >= _NEGATIVE_MAX:
                negative.clear()
        negative[kid] = now + self.settings.jwks_negative_ttl

    def _may_fetch(self, now: float) -> bool:
        return now - self._last_attempt >= self._cooldown

    def _due_in(self) -> float:
        due = max(self._next_refresh, self._last_attempt + self._cooldown)
        return due - self._clock()

    def _begin(self) -> tuple[float, float]:
        now = self._last_attempt = self._clock()
        self.fetch_count += 1
        return now, time.perf_counter()

    def _succeeded(self, fetched: fetch.Fetched, started: float) -> None:
        now, keys = self._clock(), fetched.keys
        # A new set replaces the old one whole: a key removed upstream stops verifying now.
        self.keys = keys
        self._jwks_url = fetched.url
        self._expires_at = self.fresh_until = now + fetched.lifetime
        self._next_refresh = next_refresh(now, fetched.lifetime, self._cooldown, self._random())
        self._failures = 0
        self.fetched_at = now
        self.last_error = self.config_error = None
        self._generation += 1
        logger.info("Fetched JWKS with kids %s", ", ".join(repr(k) for k in keys.kids))
        if self._on_event is not None:
            emit(
                self._on_event,
                Event(
                    "fetch",
                    self._issuer,
                    url=fetched.url,
                    kids=keys.kids,
                    lifetime=fetched.lifetime,
                    duration=time.perf_counter() - started,
                ),
            )

    def _failed(self, exc: fetch.FetchError, started: float) -> None:
        now = self._clock()
        self.last_error = str(exc)
        self._failures += 1
        self._next_refresh = now + retry_delay(self._failures, self._cooldown, self._random())
        self._generation += 1
        if self.settings.jwks_url is None:
            self._jwks_url = None  # Discover again next time: the issuer may have moved it.
        stale = " (serving the last good key set)" if self.ready else ""
        if isinstance(exc, fetch.IssuerMismatch):
            self.config_error = str(exc)
            logger.error("jwtgate %s%s", exc, stale)
        else:
            logger.warning("JWKS fetch failed (%s): %s%s", source_name(self.settings), exc, stale)
        if self._on_event is not None:
            duration = time.perf_counter() - started
            emit(
                self._on_event,
                Event("fetch_failed", self._issuer, reason=str(exc), duration=duration),
            )

    def _usable_or_raise(self) -> KeySet:
        now = self._clock()
        if self.keys is not None and now < self._expires_at + self._max_stale:
            return self.keys
        wait = self._last_attempt + self._cooldown - now
        raise KeySetUnavailable(
            "The issuer's signing keys are unavailable; try again later.",
            retry_after=math.ceil(max(wait, 1.0)),
        )

    def _emit(self, name: str, kid: str | None) -> None:
        if self._on_event is not None:
            emit(self._on_event, Event(name, self._issuer, kid=kid))
