"""A token string in, a ``VerifiedToken`` or one ``AuthError`` out.

The one object the ASGI middleware, the WSGI middleware and the CLI share: the
verification core (``TokenVerifier``, no I/O) joined to the key sources that may
fetch. Async and sync faces take the same steps in the same order.

Each trusted issuer has its own verifier and key source (``issuers.py``); their
background refresh is ``KeySourceGroup``'s. Opaque tokens go to ``Introspector``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

import httpx

from .._config.settings import Settings
from .._events import Event, EventHook, emit
from .._exceptions import AuthError, KeySetUnavailable, MalformedToken
from .._keys.group import KeySourceGroup
from .._keys.jwk import JWK, KeySet
from .._keys.source import KeySource
from .introspection import Introspector, build_introspector
from .issuers import KeySourceOptions, TrustedIssuer, select_issuer, trusted_issuers
from .lifecycle import Lifecycle
from .token import UnframedToken, UnverifiedToken
from .tokencache import CacheEntry, TokenCache
from .verifier import VerifiedToken

__all__ = ["Authenticator", "UnframedToken"]


class Authenticator(Lifecycle):
    """Verify bearer tokens under one ``Settings``, fetching keys as the cache rules allow.

    *key_set* replaces the key source (single issuer only); *http_client*/*transport*
    (async) and *sync_http_client*/*sync_transport* replace the httpx clients of the
    ``RemoteKeySet``s; *clock* (seconds since the epoch) replaces ``time.time``;
    *on_event* receives an ``Event`` for every fetch, cache use and rejection.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        key_set: KeySource | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sync_http_client: httpx.Client | None = None,
        sync_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_event: EventHook | None = None,
    ) -> None:
        self.settings = settings
        self.on_event = on_event
        self._clock = clock
        size = settings.token_cache_size
        # The cache rechecks exp/nbf on a hit, not the age limit: with one, verify each time.
        cached = size and settings.max_token_age is None and not settings.introspect_jwts
        self.token_cache = TokenCache(size, leeway=settings.leeway) if cached else None
        options = KeySourceOptions(
            http_client, transport, sync_http_client, sync_transport, clock, on_event
        )
        self._issuers = trusted_issuers(settings, key_set, options)
        #: RFC 7662 introspection of opaque tokens, when configured (else None).
        self.introspector = build_introspector(settings, options)
        self._introspect_all = settings.introspect_jwts
        first = next(iter(self._issuers.values()))
        self.key_set: KeySource = first.key_set  # The (first) issuer's key source.
        self.verifier = first.verifier
        self._single = None if settings.issuers else first
        self.key_sources = KeySourceGroup(
            [entry.key_set for entry in self._issuers.values()],
            background_refresh=settings.jwks_background_refresh,
            clock=clock,
        )
        # No hook: a fresh cache hit may skip the key source, if every source tells how
        # long its keys stay fresh (one written before ``fresh_until`` existed never does).
        self._quiet = on_event is None and all(
            hasattr(entry.key_set, "fresh_until") for entry in self._issuers.values()
        )

    def __repr__(self) -> str:
        if self._single is not None:
            return f"Authenticator(issuer={self.settings.issuer!r}, key_set={self.key_set!r})"
        return f"Authenticator(issuers={list(self._issuers)!r})"

    @property
    def key_sets(self) -> Mapping[str, KeySource]:
        """Each accepted issuer's key source, by issuer."""
        return MappingProxyType({iss: entry.key_set for iss, entry in self._issuers.items()})

    async def authenticate(self, token: str) -> VerifiedToken:
        """Verify *token*; raises ``AuthError`` (``KeySetUnavailable`` when keys cannot be had)."""
        raw = self._raw(token)
        return await self._authenticate(token, raw, self._entry(raw))

    # -- the middleware's fast path: token bytes cut from "Bearer <token>" -------

    def lookup(self, raw: bytes) -> tuple[CacheEntry | None, VerifiedToken | None]:
        """The cache entry for token bytes *raw*, and its answer when it can be given at once."""
        entry = self.token_cache.get(raw) if self.token_cache is not None else None
        return entry, None if entry is None else self._fresh_hit(entry)

    async def authenticate_cut(self, raw: bytes, entry: CacheEntry | None) -> VerifiedToken:
        """Verify token bytes *raw* cut from a header by shape alone (*entry*: ``lookup``'s).

        Raises ``AuthError``, or ``UnframedToken`` (no event) when *raw* does not
        parse: the header must then be read by its full rules.
        """
        token = raw.decode("latin-1")
        return await self._authenticate(
            token, raw if self.token_cache is not None else None, entry, False
        )

    async def _authenticate(
        self, token: str, raw: bytes | None, entry: CacheEntry | None, framed: bool = True
    ) -> VerifiedToken:
        # *raw* is the token's bytes when the token cache is on, else None; *entry* what
        # the cache holds for it (the middleware has looked already, on the header bytes).
        # *framed* False: the token was cut from a header without the header's parsing
        # rules; if it does not parse, raise UnframedToken (no event) for the caller to redo.
        try:
            if self._introspect_all and (opaque := self._opaque(token)) is not None:
                return await opaque.introspect(token)
            if entry is not None:
                if (hit := self._fresh_hit(entry)) is not None:
                    return hit
                # Past its key set's lifetime, a hit goes through the key source (refresh
                # rules, key removal, unavailability) and is then judged again; if it no
                # longer holds, the token is verified with the key the source just gave,
                # as the full path would (one lookup: the same fetches and events).
                issuer = entry.owner
                keys = issuer.key_set.keys
                key = await issuer.key_set.get_key(entry.kid, entry.alg)
                if (hit := self._still_valid(raw, entry)) is not None:
                    return hit
                return self._verify(raw, issuer, issuer.verifier.parse(token), key, keys)
            try:
                issuer, unverified = self._select(token)
            except MalformedToken:
                # Not a JWS: introspected when configured. Its b64token alphabet has no
                # space, so a token cut from the header is the one the header holds.
                if (opaque := self._opaque(token)) is not None:
                    return await opaque.introspect(token)
                if framed:
                    raise
                raise UnframedToken from None
            keys = issuer.key_set.keys
            key = self._key_now(issuer, unverified, keys) or await issuer.key_set.get_key(
                unverified.kid, unverified.alg
            )
            return self._verify(raw, issuer, unverified, key, keys)
        except AuthError as exc:
            self._rejected(exc)
            raise

    def authenticate_sync(self, token: str) -> VerifiedToken:
        """``authenticate`` for threads (WSGI, CLI): blocks while keys are fetched."""
        raw = self._raw(token)
        try:
            if self._introspect_all and (opaque := self._opaque(token)) is not None:
                return opaque.introspect_sync(token)
            entry = self._entry(raw)
            if entry is not None:
                if (hit := self._fresh_hit(entry)) is not None:
                    return hit
                issuer = entry.owner
                self.key_sources.start_refresh_threads()
                keys = issuer.key_set.keys
                key = issuer.key_set.get_key_sync(entry.kid, entry.alg)
                if (hit := self._still_valid(raw, entry)) is not None:
                    return hit
                return self._verify(raw, issuer, issuer.verifier.parse(token), key, keys)
            try:
                issuer, unverified = self._select(token)
            except MalformedToken:
                if (opaque := self._opaque(token)) is None:
                    raise
                return opaque.introspect_sync(token)
            self.key_sources.start_refresh_threads()
            keys = issuer.key_set.keys
            key = self._key_now(issuer, unverified, keys) or issuer.key_set.get_key_sync(
                unverified.kid, unverified.alg
            )
            return self._verify(raw, issuer, unverified, key, keys)
        except AuthError as exc:
            self._rejected(exc)
            raise

    # -- the steps both faces share (no I/O) -----------------------------------

    def _opaque(self, token: str) -> Introspector | None:
        """The introspector, when *token* goes to it (a bearer token not a JWS, or any)."""
        found = self.introspector
        return found if found is not None and found.accepts(token) else None

    def _raw(self, token: str) -> bytes | None:
        # Non-ASCII is never a valid token (nor a str from argv with lone surrogates,
        # which no codec encodes): nothing to look up or remember; parse_token refuses it.
        if self.token_cache is None or not token.isascii():
            return None
        return token.encode("ascii")

    def _entry(self, raw: bytes | None) -> CacheEntry | None:
        if raw is None or self.token_cache is None:
            return None
        return self.token_cache.get(raw)

    def _fresh_hit(self, entry: CacheEntry) -> VerifiedToken | None:
        """The cached verification when it can be given at once, without asking the key source."""
        # While its key set is within its lifetime, asking the key source would just
        # find the key again in the same set: judge the entry at once. With an event
        # hook the key source is asked anyway, so that it reports the use.
        key_set: KeySource = entry.owner.key_set
        now = self._clock()
        if (
            self._quiet
            and now < key_set.fresh_until
            and entry.keys is key_set.keys
            and entry.not_before <= now < entry.expires
        ):  # That is, entry.holds(key_set.keys, now): inline on the hot path.
            return entry.token
        return None

    def _key_now(
        self, issuer: TrustedIssuer, unverified: UnverifiedToken, keys: KeySet | None
    ) -> JWK | None:
        """The key from the current set while it is fresh; None: ask the key source."""
        # Within fresh_until the key source would answer from this very set: skip the
        # call (and, on the async face, a coroutine). Anything it would not find there
        # (unknown kid: refetch rules, negative cache) is left to the key source.
        if keys is None or not self._quiet or self._clock() >= issuer.key_set.fresh_until:
            return None
        try:
            return keys.find(unverified.kid, unverified.alg)
        except AuthError:
            return None

    def _still_valid(self, raw: bytes | None, entry: CacheEntry) -> VerifiedToken | None:
        if entry.holds(entry.owner.key_set.keys, self._clock()):
            return entry.token
        if self.token_cache is not None and raw is not None:
            self.token_cache.discard(raw, entry)
        return None

    def _verify(
        self,
        raw: bytes | None,
        issuer: TrustedIssuer,
        unverified: UnverifiedToken,
        key: JWK,
        keys: KeySet | None,
    ) -> VerifiedToken:
        verified = issuer.verifier.verify_with_key(unverified, key, self._clock())
        # *keys* was read before the key was looked up; sets are replaced, never reused,
        # so if it is still current the key came from it: tie the entry to it. If another
        # request swapped the set meanwhile, this token is simply not cached this time.
        cache = self.token_cache
        if (
            cache is not None
            and raw is not None
            and cache.admit(raw)
            and keys is not None
            and issuer.key_set.keys is keys
        ):
            cache.put(raw, verified, keys, issuer)
        return verified

    def _select(self, token: str) -> tuple[TrustedIssuer, UnverifiedToken]:
        single = self._single
        if single is not None:
            return single, single.verifier.parse(token)
        return select_issuer(self._issuers, token)

    def _rejected(self, exc: AuthError) -> None:
        if self.on_event is None:
            return
        name = "unavailable" if isinstance(exc, KeySetUnavailable) else "rejected"
        issuer = self.settings.issuer if self._single is not None else ""
        emit(self.on_event, Event(name, issuer, reason=exc.reason))
