"""Opaque access tokens: RFC 7662 introspection, cached safely, with async and sync faces.

A bearer token that is not a JWS (or any token, with ``introspect_jwts``) is sent
to the authorization server's introspection endpoint, and its answer judged
(``introspection_answer``). Failure semantics: the endpoint unreachable, slow,
answering an error or nonsense is ``IntrospectionUnavailable`` (503 with
``Retry-After``), never a 401 and never a pass; the endpoint refusing this API's
own credentials is logged as the configuration error it is (and answered 503 too).

Answers are kept (``introspection_cache``) by token digest, never past the token's
``exp`` nor ``introspection_cache_ttl``, refusals apart for
``introspection_negative_ttl``; concurrent requests for one token share one call;
with ``redis_url`` every instance shares the answers (``introspection_redis``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx

from .._config.settings import Settings
from .._exceptions import AuthError, MalformedToken
from .._introspection_exceptions import IntrospectionUnavailable
from .introspection_answer import AnswerRules
from .introspection_cache import AnswerCache, Flight, token_digest
from .introspection_client import IntrospectionClient
from .introspection_redis import shared_answers
from .issuers import KeySourceOptions
from .verifier import VerifiedToken

__all__ = ["Introspector", "build_introspector", "is_jws_shaped"]

logger = logging.getLogger("jwtgate")

# RFC 6750 §2.1 b64token: what a bearer token may be made of. Anything else (control
# characters, spaces, quotes, non-ASCII) never reaches the authorization server.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def is_jws_shaped(token: str) -> bool:
    """True when *token* is three dot-separated parts whose first decodes to a JSON object."""
    head, _, rest = token.partition(".")
    if rest.count(".") != 1:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return False
    return isinstance(header, dict)


def build_introspector(settings: Settings, options: KeySourceOptions) -> Introspector | None:
    """The introspector *settings* ask for (with *options*' HTTP seams and clock), or None."""
    if settings.introspection_url is None and settings.introspection_client_id is None:
        return None
    return Introspector(
        settings,
        http_client=options.http_client,
        transport=options.transport,
        sync_http_client=options.sync_http_client,
        sync_transport=options.sync_transport,
        clock=options.clock,
    )


class Introspector:
    """Introspect tokens at the endpoint *settings* name (or the issuer's metadata names).

    *http_client*/*transport* (async) and *sync_http_client*/*sync_transport* replace
    the httpx clients; *clock* (seconds since the epoch) replaces ``time.time``.
    """

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
        #: What asks the endpoint (discovery, client authentication, the HTTP calls).
        self.client = IntrospectionClient(
            settings,
            http_client=http_client,
            transport=transport,
            sync_http_client=sync_http_client,
            sync_transport=sync_transport,
            clock=clock,
        )
        self._clock = clock
        self._all = settings.introspect_jwts
        self._max_token = settings.max_token_bytes
        self._max_age = settings.introspection_cache_ttl
        self._negative_ttl = settings.introspection_negative_ttl
        self._rules = AnswerRules(settings)
        self._retry_after = self.client.retry_after
        where = (settings.introspection_url or settings.issuer) + "\0"
        where += settings.introspection_client_id or ""
        namespace = hashlib.sha256(where.encode()).hexdigest()[:16]
        self._namespace = namespace.encode()
        #: Answers in this process (by token digest).
        self.cache = AnswerCache(
            settings.introspection_cache_size, settings.introspection_cache_bytes
        )
        #: Answers shared with other workers and instances (``redis_url``), or None.
        self.shared = shared_answers(settings, namespace)
        self._flights: dict[bytes, Flight] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Introspector({self.client!r})"

    def accepts(self, token: str) -> bool:
        """True when *token* is introspected here: a well-formed bearer token (RFC 6750
        b64token, within ``max_token_bytes``) that is not a JWS (any, with ``introspect_jwts``)."""
        if len(token) > self._max_token or not _B64TOKEN.fullmatch(token):
            return False
        return self._all or not is_jws_shaped(token)

    async def introspect(self, token: str) -> VerifiedToken:
        """The verified token *token* stands for; raises ``AuthError`` (503: no answer)."""
        begun = self._begin(token)
        if isinstance(begun, VerifiedToken):
            return begun
        key, flight, leader = begun
        if not leader:
            if flight.adone is None:  # The leader is on the sync face: wait in a thread.
                await anyio.to_thread.run_sync(flight.done.wait, self._wait_limit())
            else:
                with anyio.move_on_after(self._wait_limit()):
                    await flight.adone.wait()
            return self._joined(flight)
        try:
            flight.result = await self._aresolve(key, token)
        except BaseException as exc:
            flight.error = exc
        finally:
            self._end(key, flight)
        return flight.outcome()

    def introspect_sync(self, token: str) -> VerifiedToken:
        """``introspect`` for threads (WSGI, CLI): blocks while the endpoint is asked."""
        begun = self._begin(token, sync=True)
        if isinstance(begun, VerifiedToken):
            return begun
        key, flight, leader = begun
        if not leader:
            flight.done.wait(self._wait_limit())
            return self._joined(flight)
        try:
            flight.result = self._resolve(key, token)
        except BaseException as exc:
            flight.error = exc
        finally:
            self._end(key, flight)
        return flight.outcome()

    # -- the steps both faces share ------------------------------------------

    def _begin(self, token: str, sync: bool = False) -> VerifiedToken | tuple[bytes, Flight, bool]:
        """The kept answer, else (key, flight, leading): join the call in flight or lead one."""
        if len(token) > self._max_token or not _B64TOKEN.fullmatch(token):
            raise MalformedToken("The token is not a well-formed bearer token.")
        key = token_digest(self._namespace, token)
        now = self._clock()
        hit = self.cache.get(key, now)
        if hit is not None:
            return hit
        refusal = self.cache.get_negative(key, now)
        if refusal is not None:
            raise refusal
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return key, flight, False
            flight = Flight(adone=None if sync else anyio.Event())
            self._flights[key] = flight
        return key, flight, True

    def _end(self, key: bytes, flight: Flight) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.finish()

    def _joined(self, flight: Flight) -> VerifiedToken:
        if not flight.done.is_set():
            raise IntrospectionUnavailable(
                "The authorization server did not answer in time.", retry_after=self._retry_after
            )
        if flight.error is not None and not isinstance(flight.error, AuthError):
            # The leader was cancelled (its client went away): no answer to share.
            raise IntrospectionUnavailable(
                "The token could not be introspected.", retry_after=self._retry_after
            )
        return flight.outcome()

    def _wait_limit(self) -> float:
        # A leader gives up by its own deadlines (discovery plus the call), a waiter a bit later.
        return 2 * self.settings.http_total_timeout + 1

    def _judged(
        self, key: bytes, answer: Mapping[str, Any], now: float, until: float = math.inf
    ) -> VerifiedToken:
        # *until*: a bound the answer came with (from the shared cache).
        try:
            verified = self._rules.judge(answer, now)
        except AuthError as exc:
            if self._negative_ttl > 0:
                self.cache.put_negative(key, exc, now + self._negative_ttl)
            raise
        if self._max_age > 0:
            keep = min(until, self._rules.keep_until(answer, now, self._max_age))
            self.cache.put(key, verified, keep, len(json.dumps(answer)))
        return verified

    def _keep_for(self, answer: Mapping[str, Any], now: float) -> float:
        if answer.get("active") is True:
            return self._rules.keep_until(answer, now, self._max_age)
        return now + self._negative_ttl

    async def _aresolve(self, key: bytes, token: str) -> VerifiedToken:
        if self.shared is not None:
            stored = await self.shared.aget(key)
            if stored is not None and (shared := self._from_shared(key, *stored)) is not None:
                return shared
        answer = await self.client.ask(token)
        now = self._clock()
        if self.shared is not None and (self._max_age > 0 or answer.get("active") is not True):
            await self.shared.aput(key, answer, self._keep_for(answer, now), now)
        return self._judged(key, answer, now)

    def _resolve(self, key: bytes, token: str) -> VerifiedToken:
        if self.shared is not None:
            stored = self.shared.get(key)
            if stored is not None and (shared := self._from_shared(key, *stored)) is not None:
                return shared
        answer = self.client.ask_sync(token)
        now = self._clock()
        if self.shared is not None and (self._max_age > 0 or answer.get("active") is not True):
            self.shared.put(key, answer, self._keep_for(answer, now), now)
        return self._judged(key, answer, now)

    def _from_shared(
        self, key: bytes, answer: dict[str, Any], until: float
    ) -> VerifiedToken | None:
        # Another instance asked: judge its answer here too, and keep it no longer than there.
        # Redis expires the entry on its own clock; ours decides too (None: ask the server).
        now = self._clock()
        return None if now >= until else self._judged(key, answer, now, until)

    async def aclose(self) -> None:
        """Release the async HTTP and Redis clients jwtgate created."""
        await self.client.aclose()
        if self.shared is not None:
            await self.shared.aclose()

    def close(self) -> None:
        """Release the sync HTTP and Redis clients jwtgate created."""
        self.client.close()
        if self.shared is not None:
            self.shared.close()
