"""The token cache never changes an answer: a model test against the same authenticator uncached.

Two ``Authenticator``s trust one development issuer, share one fake clock and refresh
keys on demand: one with a tiny token cache (3 entries, so admissions, CLOCK second
chances and evictions all happen), one with ``token_cache_size=0`` (the full path every
time). Hypothesis draws sequences of operations, run on both: presenting tokens from a
small pool (valid, expiring, not yet valid, issued in the future, wrong audience,
tampered, unknown kid, signed by an unpublished key), moving the clock (forward past
``exp``, the JWKS lifetime and its staleness limit, and back, as a wall clock may step),
rotating and unpublishing keys, publishing other key material under a kid, and making
the JWKS endpoint fail; with and without an event hook (hits take another path with
one). After every operation both must have given the same answer (equal claims, or the
same error class, reason, status, code, description and ``Retry-After``), their key
sources must hold the same kids after the same number of fetches, and they must have
reported the same events.

Sequences rather than a ``RuleBasedStateMachine``: with its per-example rule selection
the clock and key operations came too rarely to reach a stale hit in CI's budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jwtgate import (
    Authenticator,
    AuthError,
    Event,
    KeySetUnavailable,
    UnknownKey,
)
from jwtgate._verify.tokencache import TokenCache
from jwtgate.testing import DevKey, Issuer

from helpers import CacheHits

ISSUER = "https://issuer.test"
AUDIENCE = "api://test"
START = 1_700_000_000.0
# ES256: signing and verifying are cheap, so hypothesis can run many steps.
KEYS = [DevKey.generate("ES256", kid=f"k{i}") for i in range(3)]
UNPUBLISHED = DevKey.generate("ES256", kid="k0")  # Same kid as KEYS[0], another key.
KINDS = (
    "valid",
    "valid",
    "short",
    "expired",
    "nbf-future",
    "iat-future",
    "wrong-aud",
    "tampered-signature",
    "tampered-payload",
    "unknown-kid",
    "unpublished-key",
)
# Steps land on the boundaries: leeway 5, JWKS lifetime 120, max stale 600, exp 10..3600.
STEPS = st.sampled_from([0.5, 1, 4, 5, 6, 10, 30, 60, 119, 120, 121, 300, 600, 601, 3600])


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def settings_for(issuer: Issuer, cache_size: int) -> Any:
    return issuer.settings(
        jwks_url=issuer.jwks_url,
        algorithms=("ES256",),
        leeway=5.0,
        jwks_cache_ttl=120.0,
        jwks_min_ttl=60.0,
        jwks_max_stale=600.0,
        jwks_refetch_cooldown=5.0,
        jwks_negative_ttl=5.0,
        jwks_background_refresh=False,
        token_cache_size=cache_size,
    )


def failing_transport(issuer: Issuer, failing: list[bool]) -> httpx.MockTransport:
    """The issuer's documents, or a 503 while ``failing[0]`` is set."""
    inner = issuer.transport()

    def handler(request: httpx.Request) -> httpx.Response:
        if failing[0]:
            return httpx.Response(503)
        return inner.handle_request(request)

    return httpx.MockTransport(handler)


def outcome(
    auth: Authenticator, token: str, portal: BlockingPortal | None = None
) -> tuple[Any, ...]:
    """The answer of the sync face, or of the async face run in *portal*'s event loop."""
    try:
        if portal is None:
            verified = auth.authenticate_sync(token)
        else:
            verified = portal.call(auth.authenticate, token)
    except AuthError as exc:
        retry = exc.retry_after if isinstance(exc, KeySetUnavailable) else None
        return (type(exc), exc.reason, exc.status_code, exc.error, exc.description, retry)
    return ("ok", dict(verified.claims), dict(verified.header), verified.scopes)


def check_cache(cache: TokenCache) -> None:
    """The bookkeeping invariants of a quiescent cache."""
    entries = list(cache._entries.values())
    assert len(cache) <= cache.max_entries
    assert cache.size_bytes == sum(entry.cost for entry in entries) <= cache.max_bytes
    assert len(cache._seen) <= cache.max_entries
    assert len(cache._used) <= 2 * cache.max_entries + 64
    assert all(cache._entries[index] is entry for index, entry in cache._entries.items())


class Model:
    """The two authenticators, the issuer and the token pool; one method per operation."""

    def __init__(self, *, hooked: bool = False, portal: BlockingPortal | None = None) -> None:
        # With an event hook, hits take the path that asks the key source.
        self.hooked = hooked
        self.portal = portal  # Given: both use their async face, in this portal's loop.
        self.clock = Clock()
        self.issuer = Issuer(ISSUER, audience=AUDIENCE, keys=[KEYS[0]])
        self.signer = KEYS[0]
        self.failing = [False]
        self.tokens: list[tuple[str, str]] = []
        self.events: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}
        self.cached = self._make(3)
        self.full = self._make(0)
        cache = self.cached.token_cache
        assert cache is not None
        assert self.full.token_cache is None
        self.cache: TokenCache = cache
        self._hits = CacheHits(cache)

    @property
    def hits(self) -> int:
        """Entries the cached authenticator's cache has found so far."""
        return self._hits.count

    def _make(self, size: int) -> Authenticator:
        transport = failing_transport(self.issuer, self.failing)
        events = self.events[size > 0]

        def hook(event: Event) -> None:
            events.append((event.name, event.kid, event.reason, event.url, event.kids))

        return Authenticator(
            settings_for(self.issuer, size),
            transport=transport,
            sync_transport=transport,
            clock=self.clock,
            on_event=hook if self.hooked else None,
        )

    def teardown(self) -> None:
        for auth in (self.cached, self.full):
            auth.close()
            if self.portal is not None:
                self.portal.call(auth.aclose)

    def _mint(self, kind: str, lifetime: float, number: int) -> str:
        now, issuer = self.clock.now, self.issuer
        sub = f"user-{number}"
        if kind == "nbf-future":
            return issuer.mint(sub=sub, key=self.signer, now=now, claims={"nbf": int(now) + 20})
        if kind == "iat-future":
            return issuer.mint(sub=sub, key=self.signer, now=now + 60, expires_in=lifetime)
        if kind == "expired":
            return issuer.mint(sub=sub, key=self.signer, now=now - 100, expires_in=50)
        if kind == "short":
            lifetime = 10
        if kind == "wrong-aud":
            return issuer.mint(sub=sub, key=self.signer, now=now, audience="api://other")
        if kind == "unknown-kid":
            return issuer.mint(sub=sub, key=self.signer, now=now, kid="ghost")
        if kind == "unpublished-key":
            return issuer.mint(sub=sub, key=UNPUBLISHED, now=now, expires_in=lifetime)
        token = issuer.mint(sub=sub, key=self.signer, now=now, expires_in=lifetime)
        head, payload, signature = token.split(".")
        if kind == "tampered-signature":
            flipped = "A" if signature[10] != "A" else "B"
            return f"{head}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
        if kind == "tampered-payload":
            return f"{head}.{payload[:-2]}{'Q' if payload[-2] != 'Q' else 'R'}{payload[-1]}.{signature}"
        return token

    def start(self, kinds: list[str]) -> None:
        for kind in [
            "valid",
            "short",
            "nbf-future",
            *kinds,
        ]:  # Some tokens to cache, whatever is drawn.
            self.mint(kind, 3600)

    def mint(self, kind: str, lifetime: float) -> None:
        if len(self.tokens) < 10:
            self.tokens.append((kind, self._mint(kind, lifetime, len(self.tokens))))

    def present(self, index: int) -> None:
        self.present_token(index % len(self.tokens))

    def present_again(self, index: int) -> None:
        """The same token three times in a row: admitted, then answered from the cache."""
        for _ in range(3):
            self.present_token(index % len(self.tokens))

    def present_all(self) -> None:
        """Every token of the pool, in turn: admissions and evictions (3 entries)."""
        for index in range(len(self.tokens)):
            self.present_token(index)

    def present_token(self, index: int) -> tuple[Any, ...]:
        kind, token = self.tokens[index]
        cached = outcome(self.cached, token, self.portal)
        full = outcome(self.full, token, self.portal)
        assert cached == full, (kind, cached, full)
        if cached[0] == "ok":
            assert cached[1]["sub"] == f"user-{index}"
        return cached

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def step_back(self, seconds: float) -> None:
        # Wall clocks step back (NTP): nbf and iat are then "in the future" again.
        self.clock.now -= seconds

    def rotate(self, index: int) -> None:
        """Publish KEYS[index] (if it is not) and sign with it from now on."""
        key = KEYS[index]
        if key not in self.issuer.keys:
            self.issuer.keys.insert(0, key)
        self.signer = key

    def unpublish_signer(self) -> None:
        """Remove the newest published key from the JWKS (a compromised key, say)."""
        if self.issuer.keys:
            self.issuer.keys.pop(0)

    def swap_k0(self) -> None:
        """Publish another key under kid k0 (or back): same kid, different key material."""
        keys = self.issuer.keys
        for old, new in ((KEYS[0], UNPUBLISHED), (UNPUBLISHED, KEYS[0])):
            if old in keys:
                keys[keys.index(old)] = new
                break

    def jwks_fails(self, failing: bool) -> None:
        self.failing[0] = failing

    def check(self) -> None:
        """After every operation: same key-source state, events and sound bookkeeping."""
        a, b = self.cached.key_set.state(), self.full.key_set.state()
        assert (a.kids, a.ready, a.stale, a.fetch_count) == (
            b.kids,
            b.ready,
            b.stale,
            b.fetch_count,
        )
        check_cache(self.cache)
        # The same events (fetches, key lookups, rejections), in the same order.
        assert self.events[True] == self.events[False]


OPERATIONS = st.one_of(
    st.tuples(st.just("present"), st.integers(0, 9)),
    st.tuples(st.just("present_again"), st.integers(0, 9)),
    st.tuples(st.just("present_all")),
    st.tuples(st.just("mint"), st.sampled_from(KINDS), st.sampled_from([10, 60, 600, 3600])),
    st.tuples(st.just("advance"), STEPS),
    st.tuples(st.just("step_back"), st.sampled_from([1, 5, 6, 30, 70, 200])),
    st.tuples(st.just("rotate"), st.integers(0, len(KEYS) - 1)),
    st.tuples(st.just("unpublish_signer")),
    st.tuples(st.just("swap_k0")),
    st.tuples(st.just("jwks_fails"), st.booleans()),
)


# Half the profile's examples: each is a whole sequence of up to 40 operations.
@settings(
    max_examples=max(settings.default.max_examples // 2, 20),
    suppress_health_check=[HealthCheck.too_slow],
)
# Besides random sequences, the shortest one for each thing a hit must recheck
# (the pool starts as: 0 valid, 1 valid for 10 s, 2 valid 20 s from now).
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("advance", 30), ("present_again", 2), ("step_back", 30), ("present", 2)],
)
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("present_again", 0), ("step_back", 6), ("present", 0)],
)
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("present_again", 1), ("advance", 30), ("present", 1)],
)
@example(
    face="async",
    hooked=True,
    kinds=[],
    operations=[("present_again", 1), ("advance", 30), ("present", 1)],
)
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("present_again", 0), ("swap_k0",), ("advance", 121), ("present", 0)],
)
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("present_again", 0), ("unpublish_signer",), ("advance", 121), ("present", 0)],
)
@example(
    face="sync",
    hooked=False,
    kinds=[],
    operations=[("present_again", 0), ("jwks_fails", True), ("advance", 601), ("present", 0), ("advance", 121), ("present", 0)],
)  # fmt: skip
@given(
    hooked=st.booleans(),
    kinds=st.lists(st.sampled_from(KINDS), max_size=4),
    operations=st.lists(OPERATIONS, min_size=10, max_size=40),
    face=st.sampled_from(["sync", "async"]),
)
def test_cached_and_uncached_authenticators_answer_alike(
    portal: BlockingPortal,
    hooked: bool,
    kinds: list[str],
    operations: list[tuple[Any, ...]],
    face: str,
) -> None:
    model = Model(hooked=hooked, portal=portal if face == "async" else None)
    try:
        model.start(kinds)
        model.check()
        for name, *args in operations:
            getattr(model, name)(*args)
            model.check()
    finally:
        model.teardown()


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    """One event loop in a thread, for the async face (cheaper than one loop per example)."""
    with start_blocking_portal("asyncio") as portal:
        yield portal


def test_the_model_reaches_cache_hits_evictions_and_refusals() -> None:
    """The model is not vacuous: a fixed run gives hits, evictions and both kinds of answer."""
    machine = Model()
    try:
        machine.start(["valid", "valid", "expired", "tampered-signature"])
        answers = set()
        for index in range(6):
            machine.present_again(index)
            answers.add(machine.present_token(index)[0])
        assert machine.hits >= 4
        assert len(machine.cache) == 3  # Four valid tokens admitted into three entries.
        assert "ok" in answers
        assert len(answers) > 1
        hits = machine.hits
        assert machine.present_token(3)[0] == "ok"
        assert machine.hits == hits + 1
        machine.rotate(1)  # Publish k1 and sign with it; then k0 leaves the JWKS.
        machine.issuer.keys.remove(KEYS[0])
        assert machine.present_token(3)[0] == "ok"  # The key set is still fresh.
        machine.advance(121)  # It expires; the refetch drops k0: its tokens are refused.
        assert machine.present_token(3)[:2] == (UnknownKey, "unknown_key")
        machine.check()
    finally:
        machine.teardown()
