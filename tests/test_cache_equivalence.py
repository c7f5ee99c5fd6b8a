"""The token cache never changes an answer: a model test against the same authenticator uncached.

Two ``Authenticator``s trust one development issuer, share one fake clock and refresh
keys on demand: one with a tiny token cache (3 entries, so admissions, CLOCK second
chances and evictions all happen), one with ``token_cache_size=0`` (the full path every
time). Hypothesis drives them through the same operations: presenting tokens from a
small pool (valid, expiring, not yet valid, issued in the future, wrong audience,
tampered, unknown kid, signed by an unpublished key), moving the clock (forward past
``exp``, the JWKS lifetime and its staleness limit, and back, as a wall clock may step),
rotating and unpublishing keys, and making the JWKS endpoint fail. After every step both
must give the same answer: equal claims, or the same error class, reason, status, code,
description and ``Retry-After``; and both key sources must have fetched the same number
of times and hold the same kids (the cache skips the key source only when asking it
would change nothing).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from jwtgate import Authenticator, AuthError, Event, ImmatureToken, KeySetUnavailable, UnknownKey
from jwtgate._cache import TokenCache
from jwtgate.testing import DevKey, Issuer

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


def outcome(auth: Authenticator, token: str) -> tuple[Any, ...]:
    try:
        verified = auth.authenticate_sync(token)
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


class CacheEquivalence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.issuer = Issuer(ISSUER, audience=AUDIENCE, keys=[KEYS[0]])
        self.signer = KEYS[0]
        self.failing = [False]
        self.tokens: list[tuple[str, str]] = []
        self.hits = 0
        self.events: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}
        self.cached = self._make(3)
        self.full = self._make(0)
        cache = self.cached.token_cache
        assert cache is not None
        assert self.full.token_cache is None
        self.cache: TokenCache = cache
        get = cache.get

        def counting_get(token: bytes) -> Any:
            entry = get(token)
            self.hits += entry is not None
            return entry

        cache.get = counting_get  # type: ignore[method-assign]

    hooked = False  # With an event hook, hits take the path that asks the key source.

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
        self.cached.close()
        self.full.close()

    def _mint(self, kind: str, lifetime: float, number: int) -> str:
        now, issuer = self.clock.now, self.issuer
        sub = f"user-{number}"
        if kind == "nbf-future":
            return issuer.mint(sub=sub, key=self.signer, now=now, claims={"nbf": int(now) + 60})
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

    @initialize(kinds=st.lists(st.sampled_from(KINDS), min_size=3, max_size=6))
    def start(self, kinds: list[str]) -> None:
        for kind in kinds:
            self.mint(kind, 3600)

    @precondition(lambda self: len(self.tokens) < 10)
    @rule(kind=st.sampled_from(KINDS), lifetime=st.sampled_from([10, 60, 600, 3600]))
    def mint(self, kind: str, lifetime: float) -> None:
        self.tokens.append((kind, self._mint(kind, lifetime, len(self.tokens))))

    @rule(data=st.data())
    def present(self, data: st.DataObject) -> None:
        self.present_token(data.draw(st.integers(0, len(self.tokens) - 1), label="token"))

    @rule(data=st.data())
    def present_again(self, data: st.DataObject) -> None:
        """The same token three times in a row: admitted, then answered from the cache."""
        index = data.draw(st.integers(0, len(self.tokens) - 1), label="token")
        for _ in range(3):
            self.present_token(index)

    def present_token(self, index: int) -> tuple[Any, ...]:
        kind, token = self.tokens[index]
        cached, full = outcome(self.cached, token), outcome(self.full, token)
        assert cached == full, (kind, cached, full)
        if cached[0] == "ok":
            assert cached[1]["sub"] == f"user-{index}"
        return cached

    @rule(seconds=STEPS)
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(seconds=st.sampled_from([1, 5, 6, 30, 70, 200]))
    def step_back(self, seconds: float) -> None:
        # Wall clocks step back (NTP): nbf and iat are then "in the future" again.
        self.clock.now -= seconds

    @rule(index=st.integers(0, len(KEYS) - 1))
    def rotate(self, index: int) -> None:
        """Publish KEYS[index] (if it is not) and sign with it from now on."""
        key = KEYS[index]
        if key not in self.issuer.keys:
            self.issuer.keys.insert(0, key)
        self.signer = key

    @precondition(lambda self: self.issuer.keys)
    @rule()
    def unpublish_signer(self) -> None:
        """Remove the newest published key from the JWKS (a compromised key, say)."""
        self.issuer.keys.pop(0)

    @rule(failing=st.booleans())
    def jwks_fails(self, failing: bool) -> None:
        self.failing[0] = failing

    @invariant()
    def same_key_sources(self) -> None:
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


CacheEquivalence.TestCase.settings = settings(
    # A fifth of the profile's examples (each is a whole sequence of steps).
    max_examples=max(settings.default.max_examples // 5, 20),
    stateful_step_count=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCacheEquivalence = CacheEquivalence.TestCase


class HookedCacheEquivalence(CacheEquivalence):
    hooked = True


HookedCacheEquivalence.TestCase.settings = CacheEquivalence.TestCase.settings
TestHookedCacheEquivalence = HookedCacheEquivalence.TestCase


def test_the_model_reaches_cache_hits_evictions_and_refusals() -> None:
    """The machine is not vacuous: a fixed run gives hits, evictions and both kinds of answer."""
    machine = CacheEquivalence()
    try:
        machine.start(["valid", "valid", "valid", "valid", "expired", "tampered-signature"])
        answers = set()
        for index in range(6):
            machine.present_again(_Data(index))
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
        machine.same_key_sources()
    finally:
        machine.teardown()


class _Data:
    """Stands in for ``st.data()`` when driving the machine by hand."""

    def __init__(self, value: int) -> None:
        self.value = value

    def draw(self, strategy: Any, label: str | None = None) -> int:
        return self.value


@pytest.mark.parametrize(("back", "accepted"), [(5, True), (6, False), (100, False)])
def test_clock_stepped_back_refuses_a_cached_token_issued_in_the_future(
    back: float, accepted: bool
) -> None:
    """Regression: the cache rechecked nbf but not iat, so after the clock stepped back
    a cached token was accepted while the full path answered 401 ``immature``."""
    machine = CacheEquivalence()
    try:
        machine.start(["valid"])
        machine.present_again(_Data(0))
        assert len(machine.cache) == 1
        hits = machine.hits
        machine.step_back(back)  # Past 5 s (the leeway) iat is ahead of the clock.
        answer = machine.present_token(0)  # The same answer as the full path...
        assert machine.hits == hits + 1  # ...though the cache held the token.
        assert answer[:2] == (("ok", {**answer[1]}) if accepted else (ImmatureToken, "immature"))
    finally:
        machine.teardown()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: m.advance(3600), id="expired"),
        pytest.param(lambda m: m.step_back(6), id="issued-in-the-future"),
        pytest.param(lambda m: (m.rotate(1), m.advance(121)), id="key-set-replaced"),
        pytest.param(lambda m: (m.jwks_fails(True), m.advance(3600)), id="stale-and-expired"),
    ],
)
def test_a_cached_token_that_no_longer_holds_is_looked_up_once(change: Any) -> None:
    """Regression: when a hit no longer held, the key source was asked twice (once for
    the hit, once by the full path): every ``hit``/``stale``/``miss`` event was reported
    twice, and with no refetch cooldown a failing JWKS was fetched twice per request."""
    machine = HookedCacheEquivalence()
    try:
        machine.start(["valid"])
        machine.present_again(_Data(0))
        hits = machine.hits
        change(machine)
        del machine.events[True][:], machine.events[False][:]
        machine.present_token(0)
        assert machine.hits == hits + 1
        machine.same_key_sources()  # Events and fetch counts equal.
        names = [event[0] for event in machine.events[True]]
        assert names
        assert len(names) == len(set(names)), names  # Nothing reported twice.
    finally:
        machine.teardown()
