"""The issuer's remote JWKS: fetched with httpx, parsed once, cached safely.

The only I/O in jwtgate. One class with an async face (``get_key``, ``refresh``,
``aclose``) for ASGI and a sync face (``get_key_sync``, ``refresh_sync``,
``close``) for WSGI, sharing one I/O-free plan of what to fetch and one cache.

Cache rules:

* a fetched set is used for ``jwks_cache_ttl`` seconds; requests with known keys
  never wait for the network while it is fresh;
* an unknown ``kid`` may trigger a refetch, but fetches are at least
  ``jwks_refetch_cooldown`` apart, however many requests ask; concurrent
  askers share the one fetch in flight;
* a failed fetch never discards the last good set: it keeps verifying for
  ``jwks_max_stale`` seconds past its expiry, then requests get 503.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import anyio
import httpx

from ._config import Settings, require_secure_url
from ._exceptions import ConfigurationError, KeySetUnavailable, UnknownKey
from ._jwk import JWK, KeySet

__all__ = ["RemoteKeySet"]

logger = logging.getLogger("jwtgate")

Clock = Callable[[], float]


class FetchError(Exception):
    """A key set or discovery document could not be had (the message says why)."""


@dataclass(frozen=True, slots=True)
class _Response:
    status_code: int
    content: bytes


# A plan yields the URL to GET next and is sent back the response; it returns the key set.
_Plan = Generator[str, _Response, KeySet]


class RemoteKeySet:
    """The issuer's JWKS, fetched on demand and cached; see the module docstring for the rules."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_http_client: httpx.Client | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._jwks_url = settings.jwks_url
        self._timeout = httpx.Timeout(settings.http_timeout)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=transport, timeout=self._timeout, follow_redirects=False
        )
        self._owns_sync_client = sync_http_client is None
        self._sync_client = sync_http_client
        self._sync_transport = sync_transport
        self._alock = anyio.Lock()
        self._tlock = threading.Lock()
        self._keys: KeySet | None = None
        self._expires_at = -math.inf
        self._last_attempt = -math.inf
        self._generation = 0
        #: Why the last fetch failed, or None after a success.
        self.last_error: str | None = None
        #: When the last successful fetch completed (clock time), or None.
        self.fetched_at: float | None = None
        #: How many fetches of the JWKS (and discovery) were attempted.
        self.fetch_count = 0

    def __repr__(self) -> str:
        url = self._jwks_url or f"discovered from {self.settings.issuer!r}"
        return f"RemoteKeySet({url!r}, kids={self._keys.kids if self._keys else None!r})"

    @property
    def keys(self) -> KeySet | None:
        """The current key set (possibly stale), or None before the first successful fetch."""
        return self._keys

    @property
    def ready(self) -> bool:
        """True when a key set is cached and may still be used."""
        return self._usable(self._clock())

    # -- the async face -------------------------------------------------------

    async def get_key(self, kid: str | None, alg: str) -> JWK:
        """The key for a token's ``kid``/``alg``, fetching only when the rules allow."""
        keys, generation = self._keys, self._generation
        if keys is not None and self._clock() < self._expires_at:
            try:
                return keys.find(kid, alg)
            except UnknownKey:
                if kid is None or not self._may_fetch():
                    raise
        return self._find_after_refresh(await self._refresh(generation), kid, alg)

    async def refresh(self) -> KeySet:
        """Fetch now unless a fetch happened within the cooldown; returns the usable set."""
        return await self._refresh(self._generation)

    async def aclose(self) -> None:
        """Close the HTTP client, if jwtgate created it."""
        if self._owns_client:
            await self._client.aclose()

    async def _refresh(self, generation: int) -> KeySet:
        async with self._alock:
            # Whoever held the lock before us may have fetched already: share its result.
            if generation == self._generation and self._may_fetch():
                self._begin()
                try:
                    keys = await self._run_async(self._plan())
                except FetchError as exc:
                    self._failed(exc)
                else:
                    self._succeeded(keys)
        return self._usable_or_raise()

    async def _run_async(self, plan: _Plan) -> KeySet:
        try:
            url = next(plan)
            while True:
                try:
                    response = await self._aget(url)
                except FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            keys: KeySet = stop.value
            return keys

    async def _aget(self, url: str) -> _Response:
        max_bytes = self.settings.jwks_max_bytes
        try:
            # A total deadline on top of httpx's per-operation timeouts stops a
            # server that drips its body one byte at a time.
            with anyio.fail_after(self.settings.http_timeout * 2):
                async with self._client.stream("GET", url, headers=_HEADERS) as response:
                    _check_status(response)
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk  # Decoded bytes: the cap also stops compression bombs.
                        if len(body) > max_bytes:
                            raise FetchError(f"{url} sent more than {max_bytes} bytes")
        except TimeoutError:
            raise FetchError(f"{url} timed out") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} failed: {type(exc).__name__}") from None
        return _Response(response.status_code, bytes(body))

    # -- the sync face --------------------------------------------------------

    def get_key_sync(self, kid: str | None, alg: str) -> JWK:
        """Like ``get_key``, for threads; concurrent callers share one fetch."""
        keys, generation = self._keys, self._generation
        if keys is not None and self._clock() < self._expires_at:
            try:
                return keys.find(kid, alg)
            except UnknownKey:
                if kid is None or not self._may_fetch():
                    raise
        return self._find_after_refresh(self._refresh_sync(generation), kid, alg)

    def refresh_sync(self) -> KeySet:
        """Like ``refresh``, for threads."""
        return self._refresh_sync(self._generation)

    def close(self) -> None:
        """Close the sync HTTP client, if jwtgate created it."""
        if self._owns_sync_client and self._sync_client is not None:
            self._sync_client.close()

    def _refresh_sync(self, generation: int) -> KeySet:
        with self._tlock:
            if generation == self._generation and self._may_fetch():
                self._begin()
                try:
                    keys = self._run_sync(self._plan())
                except FetchError as exc:
                    self._failed(exc)
                else:
                    self._succeeded(keys)
        return self._usable_or_raise()

    def _run_sync(self, plan: _Plan) -> KeySet:
        try:
            url = next(plan)
            while True:
                try:
                    response = self._get(url)
                except FetchError as exc:
                    url = plan.throw(exc)
                else:
                    url = plan.send(response)
        except StopIteration as stop:
            keys: KeySet = stop.value
            return keys

    def _get(self, url: str) -> _Response:
        if self._sync_client is None:
            self._sync_client = httpx.Client(
                transport=self._sync_transport, timeout=self._timeout, follow_redirects=False
            )
        max_bytes = self.settings.jwks_max_bytes
        deadline = time.monotonic() + self.settings.http_timeout * 2
        try:
            with self._sync_client.stream("GET", url, headers=_HEADERS) as response:
                _check_status(response)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"{url} sent more than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url} timed out")
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} failed: {type(exc).__name__}") from None
        return _Response(response.status_code, bytes(body))

    # -- the shared, I/O-free part --------------------------------------------

    def _plan(self) -> _Plan:
        """What to fetch, in order: discovery (when needed), then the JWKS."""
        if self._jwks_url is None:
            self._jwks_url = yield from self._discover()
        url = self._jwks_url
        try:
            response = yield url
        except FetchError:
            if self.settings.jwks_url is None:
                self._jwks_url = None  # Discover again next time: the issuer may have moved it.
            raise
        try:
            keys = KeySet.from_json(response.content, self.settings.algorithms)
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}") from None
        if not keys:
            raise FetchError(f"{url} holds no usable key ({'; '.join(keys.skipped) or 'empty'})")
        return keys

    def _discover(self) -> Generator[str, _Response, str]:
        issuer = self.settings.issuer
        problems = []
        for url in self.settings.discovery_urls:
            try:
                response = yield url
            except FetchError as exc:
                problems.append(str(exc))
                continue
            try:
                document = json.loads(response.content)
            except ValueError:
                problems.append(f"{url} is not JSON")
                continue
            if not isinstance(document, dict):
                problems.append(f"{url} is not a JSON object")
                continue
            if document.get("issuer") != issuer:
                # OIDC Discovery §4.3: a mismatch means the document is not this issuer's.
                problems.append(f"{url} names another issuer")
                continue
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                problems.append(f"{url} has no jwks_uri")
                continue
            try:
                return require_secure_url(jwks_uri, "jwks_uri")
            except ConfigurationError as exc:
                problems.append(f"{url}: {exc}")
        raise FetchError("discovery failed: " + "; ".join(problems))

    def _may_fetch(self) -> bool:
        return self._clock() - self._last_attempt >= self.settings.jwks_refetch_cooldown

    def _begin(self) -> None:
        self._last_attempt = self._clock()
        self.fetch_count += 1

    def _succeeded(self, keys: KeySet) -> None:
        now = self._clock()
        # A new set replaces the old one whole: a key removed upstream stops verifying now.
        self._keys = keys
        self._expires_at = now + self.settings.jwks_cache_ttl
        self.fetched_at = now
        self.last_error = None
        self._generation += 1
        logger.info("Fetched JWKS with kids %s", ", ".join(repr(k) for k in keys.kids))

    def _failed(self, exc: FetchError) -> None:
        self.last_error = str(exc)
        self._generation += 1
        stale = " (serving the last good key set)" if self._usable(self._clock()) else ""
        logger.warning("JWKS fetch failed: %s%s", exc, stale)

    def _usable(self, now: float) -> bool:
        return self._keys is not None and now < self._expires_at + self.settings.jwks_max_stale

    def _usable_or_raise(self) -> KeySet:
        now = self._clock()
        if self._keys is not None and self._usable(now):
            return self._keys
        wait = self.settings.jwks_refetch_cooldown - (now - self._last_attempt)
        raise KeySetUnavailable(
            "The issuer's signing keys are unavailable; try again later.",
            retry_after=math.ceil(max(wait, 1.0)),
        )

    def _find_after_refresh(self, keys: KeySet, kid: str | None, alg: str) -> JWK:
        try:
            return keys.find(kid, alg)
        except UnknownKey:
            if self.last_error is not None:
                # The key may be new and the refresh failed: say "later", not "invalid".
                raise KeySetUnavailable(
                    "The issuer's signing keys could not be refreshed; try again later.",
                    retry_after=math.ceil(self.settings.jwks_refetch_cooldown),
                ) from None
            raise


_HEADERS = {"Accept": "application/json, application/jwk-set+json"}


def _check_status(response: httpx.Response) -> None:
    if response.status_code != 200:
        # Redirects are not followed: the JWKS URL is a trust anchor, and a redirect
        # could move it somewhere the configuration never named.
        raise FetchError(f"{response.url} answered HTTP {response.status_code}")
