"""The issuer's remote JWKS: fetched with httpx, cached, refreshed ahead of expiry.

One class with an async face (``get_key``, ``refresh``, ``keep_fresh``, ``aclose``)
and a sync face (``get_key_sync``, ``refresh_sync``, ``start_refresh_thread``,
``close``) over one cache. What is fetched, and how, lives in ``_fetch``; when,
in ``_lifetime``; the cache state and its rules, in ``_keycache`` (no I/O). Rules:

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
  unknown ``kid`` against a stale set is answered 503, never 401;
* a fetch (discovery and JWKS together) ends by ``http_total_timeout`` however the
  server paces its bytes (``deadline``); a request that needs a fetch in progress
  waits for it at most ``jwks_fetch_wait`` seconds, then answers from the cache
  (stale keys, or 503). The sync face fetches in a thread of its own, so that the
  thread that started the fetch waits no longer than the others; on the async face
  that task waits for its fetch (at most the deadline), the others at most the wait.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from .._config.settings import Settings
from .._events import EventHook
from .._exceptions import KeySetUnavailable
from . import fetch
from .jwk import JWK, KeySet
from .keycache import JITTER, KeyCache

__all__ = ["RemoteKeySet"]

logger = logging.getLogger("jwtgate")

Clock = Callable[[], float]


class RemoteKeySet(KeyCache):
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
        random: Callable[[], float] = JITTER.random,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        super().__init__(settings, clock=clock, on_event=on_event, random=random)
        self._sleep = sleep
        self._owns_client = http_client is None
        # Made on the first fetch: building a client (its TLS context) costs milliseconds,
        # which a deployment with many issuers would otherwise pay for each at startup.
        self._client = http_client
        self._transport = transport
        self._owns_sync_client = sync_http_client is None
        self._sync_client = sync_http_client
        self._sync_transport = sync_transport
        self._limits = fetch.Limits.from_settings(settings)
        # How long a request waits for a fetch in progress before answering without it.
        self._wait = min(settings.jwks_fetch_wait, settings.http_total_timeout)
        self._afetch: anyio.Event | None = None  # The async fetch in progress.
        self._tlock = threading.Lock()  # Held for decisions only, never during I/O.
        self._running: threading.Event | None = None  # The sync fetch in progress...
        self._running_pid = 0  # ...in this process: a fork does not copy the thread.
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        url = self._jwks_url or f"discovered from {self._issuer!r}"
        return f"RemoteKeySet({url!r}, kids={self.keys.kids if self.keys else None!r})"

    # -- the async face -------------------------------------------------------

    async def get_key(self, kid: str | None, alg: str) -> JWK:
        """The key for a token's ``kid``/``alg``, fetching only when the rules allow."""
        generation = self._generation
        key = self._lookup(kid, alg)
        if key is not None:
            return key
        return self._after_fetch(await self._refresh(generation, self._wait), kid, alg)

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
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _async_client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=fetch.timeout(self.settings),
                follow_redirects=False,
            )
        return self._client

    async def _refresh(self, generation: int, wait: float | None = None) -> KeySet:
        # The first asker fetches (by the fetch deadline); the others wait for it at most
        # *wait* seconds (None: until it ends), then answer from whatever is cached.
        running = self._afetch
        if running is None and generation == self._generation and self._may_fetch(self._clock()):
            self._afetch = running = anyio.Event()
            try:
                now, started = self._begin()
                try:
                    plan = fetch.plan(self.settings, self._jwks_url, now)
                    fetched = await self._run_async(plan, fetch.Deadline(self._limits))
                except fetch.FetchError as exc:
                    self._failed(exc, started)
                else:
                    self._succeeded(fetched, started)
            finally:
                self._afetch = None
                running.set()
        elif running is not None:
            with anyio.move_on_after(math.inf if wait is None else wait):
                await running.wait()
        return self._usable_or_raise()

    async def _run_async(self, plan: fetch.Plan, deadline: fetch.Deadline) -> fetch.Fetched:
        try:
            url = next(plan)
            while True:
                try:
                    response = await fetch.aget(self._async_client(), url, deadline)
                except fetch.FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            fetched: fetch.Fetched = stop.value
            return fetched

    # -- the sync face --------------------------------------------------------

    def get_key_sync(self, kid: str | None, alg: str) -> JWK:
        """Like ``get_key``, for threads; concurrent callers share one fetch."""
        generation = self._generation
        key = self._lookup(kid, alg)
        if key is not None:
            return key
        return self._after_fetch(self._refresh_sync(generation, self._wait), kid, alg)

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

    def _refresh_sync(self, generation: int, wait: float | None = None) -> KeySet:
        # The fetch runs in a thread of its own: the asker, like every other thread that
        # needs it meanwhile, waits at most *wait* seconds (None: until it ends), then
        # answers from whatever is cached. One slow issuer holds one thread, not a pool.
        with self._tlock:
            running = self._running if self._running_pid == os.getpid() else None
            if (
                running is None
                and generation == self._generation
                and self._may_fetch(self._clock())
            ):
                self._running = running = threading.Event()
                self._running_pid = os.getpid()
                now, started = self._begin()
                threading.Thread(
                    target=self._fetch_sync,
                    args=(running, now, started),
                    name="jwtgate-jwks-fetch",
                    daemon=True,
                ).start()
        if running is not None:
            running.wait(wait)
        return self._usable_or_raise()

    def _fetch_sync(self, done: threading.Event, now: float, started: float) -> None:
        outcome: fetch.Fetched | fetch.FetchError
        try:
            plan = fetch.plan(self.settings, self._jwks_url, now)
            outcome = self._run_sync(plan, fetch.Deadline(self._limits))
        except fetch.FetchError as exc:
            outcome = exc
        except Exception as exc:  # Waiters must be released whatever happens here.
            logger.exception("jwtgate key fetch")
            outcome = fetch.FetchError(f"unexpected {type(exc).__name__}")
        with self._tlock:
            try:
                if isinstance(outcome, fetch.FetchError):
                    self._failed(outcome, started)
                else:
                    self._succeeded(outcome, started)
            finally:
                self._running = None
                done.set()

    def _run_sync(self, plan: fetch.Plan, deadline: fetch.Deadline) -> fetch.Fetched:
        if self._sync_client is None:
            self._sync_client = httpx.Client(
                transport=self._sync_transport,
                timeout=fetch.timeout(self.settings),
                follow_redirects=False,
            )
        try:
            url = next(plan)
            while True:
                try:
                    response = fetch.get(self._sync_client, url, deadline)
                except fetch.FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            fetched: fetch.Fetched = stop.value
            return fetched
