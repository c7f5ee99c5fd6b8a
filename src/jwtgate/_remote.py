"""The issuer's remote JWKS: fetched with httpx, cached, refreshed ahead of expiry.

One class with an async face (``get_key``, ``refresh``, ``keep_fresh``, ``aclose``)
and a sync face (``get_key_sync``, ``refresh_sync``, ``start_refresh_thread``,
``close``) over one cache. What is fetched, and how, lives in ``_fetch``; when,
in ``_lifetime``. Cache rules:

* a fetched set lives for the server's ``Cache-Control``/``Expires`` lifetime,
  clamped to ``[jwks_min_ttl, jwks_max_ttl]`` (``jwks_cache_ttl`` when it says nothing);
* with a background refresher running (the ASGI lifespan, or the sync thread) the set
  is refreshed at 75-90 % of its lifetime (random jitter), failures are retried with
  exponential backoff, and no request waits for a known key; without one, the first
  request after expiry refreshes on demand;
* an unknown ``kid`` may trigger a fetch, at most one per ``jwks_refetch_cooldown``
  (a failed fetch counts), shared by every concurrent asker; a ``kid`` still absent
  after a fetch is remembered for ``jwks_negative_ttl`` seconds;
* a successful fetch replaces the whole set; a failed one keeps the last good set,
  used for ``jwks_max_stale`` seconds past its expiry for known ``kid``s only: an
  unknown ``kid`` against a stale set is answered 503, never 401.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from . import _fetch
from ._config import Settings
from ._events import Event, EventHook, emit
from ._exceptions import KeySetUnavailable, UnknownKey
from ._jwk import JWK, KeySet
from ._keysource import KeySetState
from ._lifetime import next_refresh, retry_delay

__all__ = ["RemoteKeySet"]

logger = logging.getLogger("jwtgate")

Clock = Callable[[], float]
_NEGATIVE_MAX = 10_000  # Bounded memory under a flood of random kids.


class RemoteKeySet:
    """The issuer's JWKS, fetched, cached and refreshed; see the module docstring for the rules.

    *clock*, *random* (uniform in [0, 1), for jitter) and *sleep* are seams for tests.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_http_client: httpx.Client | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        clock: Clock = time.time,
        on_event: EventHook | None = None,
        random: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._random = random
        self._sleep = sleep
        self._on_event = on_event
        self._issuer = settings.issuer
        self._jwks_url = settings.jwks_url
        self._max_stale = settings.jwks_max_stale
        self._cooldown = settings.jwks_refetch_cooldown
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=transport, timeout=_fetch.timeout(settings), follow_redirects=False
        )
        self._owns_sync_client = sync_http_client is None
        self._sync_client = sync_http_client
        self._sync_transport = sync_transport
        self._alock = anyio.Lock()
        self._tlock = threading.Lock()
        self._keys: KeySet | None = None
        self._expires_at = -math.inf
        self._last_attempt = -math.inf
        self._next_refresh = -math.inf
        self._failures = 0
        self._generation = 0
        self._negative: dict[str, float] = {}
        self._background = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Why the last fetch failed, or None after a success.
        self.last_error: str | None = None
        #: When the last successful fetch completed (clock time), or None.
        self.fetched_at: float | None = None
        #: How many fetches of the JWKS (and discovery) were attempted.
        self.fetch_count = 0

    def __repr__(self) -> str:
        url = self._jwks_url or f"discovered from {self._issuer!r}"
        return f"RemoteKeySet({url!r}, kids={self._keys.kids if self._keys else None!r})"

    @property
    def keys(self) -> KeySet | None:
        """The current key set (possibly stale), or None before the first successful fetch.

        Every successful refresh installs a new ``KeySet`` object: identity tells a change.
        """
        return self._keys

    @property
    def ready(self) -> bool:
        """True when a key set is cached and may still be used."""
        return self._keys is not None and self._clock() < self._expires_at + self._max_stale

    def state(self) -> KeySetState:
        """A snapshot of the cache: kids, age, last fetch and its result, next refresh."""
        now, fetched, keys = self._clock(), self.fetched_at, self._keys

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
            next_refresh=known(max(self._next_refresh, self._last_attempt + self._cooldown)),
            fetch_count=self.fetch_count,
            refreshing=self._background > 0,
        )

    # -- the async face -------------------------------------------------------

    async def get_key(self, kid: str | None, alg: str) -> JWK:
        """The key for a token's ``kid``/``alg``, fetching only when the rules allow."""
        generation = self._generation
        key = self._lookup(kid, alg)
        if key is not None:
            return key
        return self._after_fetch(await self._refresh(generation), kid, alg)

    async def refresh(self) -> KeySet:
        """Fetch now unless a fetch happened within the cooldown; returns the usable set."""
        return await self._refresh(self._generation)

    async def keep_fresh(self) -> None:
        """Fetch now if due, then refresh ahead of expiry (retrying failures) until cancelled."""
        self._background += 1
        try:
            while True:
                delay = self._due_in()
                if delay > 0:
                    await self._sleep(delay)
                    continue
                # A failure is logged and reported; retried after the backoff.
                with contextlib.suppress(KeySetUnavailable):
                    await self._refresh(self._generation)
        finally:
            self._background -= 1

    async def aclose(self) -> None:
        """Close the HTTP client, if jwtgate created it."""
        if self._owns_client:
            await self._client.aclose()

    async def _refresh(self, generation: int) -> KeySet:
        async with self._alock:
            # Whoever held the lock before us may have fetched already: share its result.
            if generation == self._generation and self._may_fetch(self._clock()):
                now, started = self._begin()
                try:
                    fetched = await self._run_async(_fetch.plan(self.settings, self._jwks_url, now))
                except _fetch.FetchError as exc:
                    self._failed(exc, started)
                else:
                    self._succeeded(fetched, started)
        return self._usable_or_raise()

    async def _run_async(self, plan: _fetch.Plan) -> _fetch.Fetched:
        try:
            url = next(plan)
            while True:
                try:
                    response = await _fetch.aget(self._client, url, self.settings)
                except _fetch.FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            fetched: _fetch.Fetched = stop.value
            return fetched

    # -- the sync face --------------------------------------------------------

    def get_key_sync(self, kid: str | None, alg: str) -> JWK:
        """Like ``get_key``, for threads; concurrent callers share one fetch."""
        generation = self._generation
        key = self._lookup(kid, alg)
        if key is not None:
            return key
        return self._after_fetch(self._refresh_sync(generation), kid, alg)

    def refresh_sync(self) -> KeySet:
        """Like ``refresh``, for threads."""
        return self._refresh_sync(self._generation)

    def start_refresh_thread(self) -> None:
        """Refresh ahead of expiry from a daemon thread until ``close()`` (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._refresh_forever, name="jwtgate-jwks-refresh", daemon=True
        )
        self._background += 1
        self._thread.start()

    def close(self) -> None:
        """Stop the refresh thread, and close the sync HTTP client if jwtgate created it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.settings.http_total_timeout + 1)
        if self._owns_sync_client and self._sync_client is not None:
            self._sync_client.close()

    def _refresh_forever(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self._due_in()
                if delay > 0:
                    self._stop.wait(delay)
                    continue
                try:
                    self._refresh_sync(self._generation)
                except KeySetUnavailable:
                    pass
                except Exception:  # The thread must outlive anything unexpected.
                    logger.exception("jwtgate key refresh thread")
                    self._stop.wait(self._cooldown or 1.0)
        finally:
            self._background -= 1

    def _refresh_sync(self, generation: int) -> KeySet:
        with self._tlock:
            if generation == self._generation and self._may_fetch(self._clock()):
                now, started = self._begin()
                try:
                    fetched = self._run_sync(_fetch.plan(self.settings, self._jwks_url, now))
                except _fetch.FetchError as exc:
                    self._failed(exc, started)
                else:
                    self._succeeded(fetched, started)
        return self._usable_or_raise()

    def _run_sync(self, plan: _fetch.Plan) -> _fetch.Fetched:
        if self._sync_client is None:
            self._sync_client = httpx.Client(
                transport=self._sync_transport,
                timeout=_fetch.timeout(self.settings),
                follow_redirects=False,
            )
        try:
            url = next(plan)
            while True:
                try:
                    response = _fetch.get(self._sync_client, url, self.settings)
                except _fetch.FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            fetched: _fetch.Fetched = stop.value
            return fetched

    # -- the shared, I/O-free part --------------------------------------------

    def _lookup(self, kid: str | None, alg: str) -> JWK | None:
        """The key, or None when a fetch must come first; raises when the answer is known."""
        now, keys = self._clock(), self._keys
        if keys is None or now >= self._expires_at + self._max_stale:
            self._emit("miss", kid)
            return None
        if kid is None or keys.has_kid(kid):
            if now < self._expires_at:
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
            for old in [k for k, until in negative.items() if until <= now]:
                del negative[old]
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

    def _succeeded(self, fetched: _fetch.Fetched, started: float) -> None:
        now, keys = self._clock(), fetched.keys
        # A new set replaces the old one whole: a key removed upstream stops verifying now.
        self._keys = keys
        self._jwks_url = fetched.url
        self._expires_at = now + fetched.lifetime
        self._next_refresh = next_refresh(now, fetched.lifetime, self._cooldown, self._random())
        self._failures = 0
        self.fetched_at = now
        self.last_error = None
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

    def _failed(self, exc: _fetch.FetchError, started: float) -> None:
        now = self._clock()
        self.last_error = str(exc)
        self._failures += 1
        self._next_refresh = now + retry_delay(self._failures, self._cooldown, self._random())
        self._generation += 1
        if self.settings.jwks_url is None:
            self._jwks_url = None  # Discover again next time: the issuer may have moved it.
        stale = " (serving the last good key set)" if self.ready else ""
        logger.warning("JWKS fetch failed: %s%s", exc, stale)
        if self._on_event is not None:
            duration = time.perf_counter() - started
            emit(
                self._on_event,
                Event("fetch_failed", self._issuer, reason=str(exc), duration=duration),
            )

    def _usable_or_raise(self) -> KeySet:
        now = self._clock()
        if self._keys is not None and now < self._expires_at + self._max_stale:
            return self._keys
        wait = self._last_attempt + self._cooldown - now
        raise KeySetUnavailable(
            "The issuer's signing keys are unavailable; try again later.",
            retry_after=math.ceil(max(wait, 1.0)),
        )

    def _emit(self, name: str, kid: str | None) -> None:
        if self._on_event is not None:
            emit(self._on_event, Event(name, self._issuer, kid=kid))
