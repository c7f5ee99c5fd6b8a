"""Asking the introspection endpoint: where it is, how to authenticate, one call per face.

The endpoint is configured or discovered once from the issuer's metadata
(``introspection_endpoint``). Whatever goes wrong on the way (unreachable, slow,
an error status, an answer that is not RFC 7662 JSON) is ``IntrospectionUnavailable``
(503): never a verdict on the token. The endpoint refusing this API's own
credentials is logged as the configuration error it is.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx

from .._config.settings import Settings
from .._introspection_exceptions import IntrospectionUnavailable
from .._keys import fetch
from .._keys.fetch import Deadline, FetchError, Limits
from .introspection_answer import CredentialsRefused, read_answer
from .introspection_http import ClientAuth, apost, discover_endpoint, post

__all__ = ["IntrospectionClient"]

logger = logging.getLogger("jwtgate")


class IntrospectionClient:
    """Introspection calls under one ``Settings`` (seams as ``Introspector``'s)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_http_client: httpx.Client | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._auth = ClientAuth.from_settings(settings)
        self._clock = clock
        #: The endpoint: configured, or discovered on first use (None until then).
        self.endpoint: str | None = settings.introspection_url
        #: Seconds a client is told to wait (``Retry-After``) when no answer can be had.
        self.retry_after = max(1, math.ceil(settings.jwks_refetch_cooldown))
        self._limits = Limits.from_settings(settings)
        #: Why the last call failed (for diagnostics; never holds a token), or None.
        self.last_error: str | None = None
        self._own_client = http_client is None
        self._client = http_client
        self._transport = transport
        self._own_sync_client = sync_http_client is None
        self._sync_client = sync_http_client
        self._sync_transport = sync_transport

    def __repr__(self) -> str:
        return f"IntrospectionClient(endpoint={self.endpoint!r}, auth={self._auth.method!r})"

    async def ask(self, token: str) -> dict[str, Any]:
        """The endpoint's answer about *token*; raises ``IntrospectionUnavailable``."""
        deadline = Deadline(self._limits)  # One deadline for discovery and the call.
        try:
            url = self.endpoint or await self._adiscover(deadline)
            headers, body = self._auth.request(url, token, self._clock())
            response = await apost(self._aclient(), url, headers, body, deadline)
            return read_answer(response, url)
        except FetchError as exc:
            raise self._unavailable(exc) from None

    def ask_sync(self, token: str) -> dict[str, Any]:
        """``ask`` for threads."""
        deadline = Deadline(self._limits)
        try:
            url = self.endpoint or self._discover(deadline)
            headers, body = self._auth.request(url, token, self._clock())
            return read_answer(post(self._sclient(), url, headers, body, deadline), url)
        except FetchError as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: FetchError) -> IntrospectionUnavailable:
        self.last_error = str(exc)
        if isinstance(exc, CredentialsRefused):
            logger.error(
                "Configuration error: the introspection endpoint refused this API's client "
                "credentials (%s). Check JWTGATE_INTROSPECTION_CLIENT_ID, "
                "JWTGATE_INTROSPECTION_CLIENT_SECRET and JWTGATE_INTROSPECTION_AUTH_METHOD.",
                exc,
            )
        else:
            logger.warning("Token introspection failed: %s", exc)
        return IntrospectionUnavailable(
            "The authorization server cannot introspect the token now.",
            retry_after=self.retry_after,
        )

    async def _adiscover(self, deadline: Deadline) -> str:
        plan = discover_endpoint(self.settings)
        url = next(plan)
        while True:
            try:
                response = await fetch.aget(self._aclient(), url, deadline)
            except FetchError as exc:
                url = plan.throw(exc)
                continue
            try:
                url = plan.send(response)
            except StopIteration as done:
                self.endpoint = str(done.value)
                return self.endpoint

    def _discover(self, deadline: Deadline) -> str:
        plan = discover_endpoint(self.settings)
        url = next(plan)
        while True:
            try:
                response = fetch.get(self._sclient(), url, deadline)
            except FetchError as exc:
                url = plan.throw(exc)
                continue
            try:
                url = plan.send(response)
            except StopIteration as done:
                self.endpoint = str(done.value)
                return self.endpoint

    def _aclient(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=fetch.timeout(self.settings)
            )
        return self._client

    def _sclient(self) -> httpx.Client:
        if self._sync_client is None:
            self._sync_client = httpx.Client(
                transport=self._sync_transport, timeout=fetch.timeout(self.settings)
            )
        return self._sync_client

    async def aclose(self) -> None:
        """Release the async HTTP client, if jwtgate created it."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def close(self) -> None:
        """Release the sync HTTP client, if jwtgate created it."""
        if self._own_sync_client and self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None
