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

import dataclasses
import os
import random
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
    ImmatureToken,
    IssuerConfig,
    KeySetUnavailable,
    MalformedToken,
    RemoteKeySet,
    Settings,
    TokenTooOld,
    UnknownKey,
)
from jwtgate._cache import TokenCache
from jwtgate._cli import main
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


@pytest.mark.parametrize(("back", "accepted"), [(5, True), (6, False), (100, False)])
def test_clock_stepped_back_refuses_a_cached_token_issued_in_the_future(
    back: float, accepted: bool
) -> None:
    """Regression: the cache rechecked nbf but not iat, so after the clock stepped back
    a cached token was accepted while the full path answered 401 ``immature``."""
    machine = Model()
    try:
        machine.start(["valid"])
        machine.present_again(0)
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
    machine = Model(hooked=True)
    try:
        machine.start(["valid"])
        machine.present_again(0)
        hits = machine.hits
        change(machine)
        del machine.events[True][:], machine.events[False][:]
        machine.present_token(0)
        assert machine.hits == hits + 1
        machine.check()  # Events and fetch counts equal.
        names = [event[0] for event in machine.events[True]]
        assert names
        assert len(names) == len(set(names)), names  # Nothing reported twice.
    finally:
        machine.teardown()


def test_several_issuers_sharing_kids_answer_the_same_cached_or_not() -> None:
    """With ``Settings.issuers``, entries belong to the issuer that verified them: a token
    naming one issuer but signed with the other's key (same kid) is never answered from
    another token's entry, and each issuer's key changes reach its own cached tokens."""
    a_key, b_key = DevKey.generate("ES256", kid="shared"), DevKey.generate("ES256", kid="shared")
    a = Issuer("https://a.test", audience="api-a", keys=[a_key])
    b = Issuer("https://b.test", audience="api-b", keys=[b_key])
    clock = Clock()
    routes = {"a.test": a.transport(), "b.test": b.transport()}
    transport = httpx.MockTransport(lambda r: routes[r.url.host].handle_request(r))

    def make(size: int) -> Authenticator:
        configs = [
            IssuerConfig(issuer=i.issuer, audience=i.audience, jwks_url=i.jwks_url, algorithms="ES256")
            for i in (a, b)
        ]  # fmt: skip
        settings = Settings(
            issuers=configs,
            leeway=5.0,
            jwks_cache_ttl=120.0,
            jwks_background_refresh=False,
            token_cache_size=size,
        )
        return Authenticator(settings, transport=transport, sync_transport=transport, clock=clock)

    cached, full = make(3), make(0)
    cache = cached.token_cache
    assert cache is not None

    def entries() -> set[bytes]:
        return {t.encode() for t in tokens if hash(t.encode()) in cache._entries}

    now = clock.now
    tokens = [
        a.mint(sub="a-1", now=now),
        a.mint(sub="a-2", now=now, expires_in=100),
        b.mint(sub="b-1", now=now),
        b.mint(sub="b-2", now=now, expires_in=200),
        b.mint(sub="b-as-a", now=now, claims={"iss": a.issuer}, audience="api-a"),
        a.mint(sub="a-aud-b", now=now, audience="api-b"),
        b.mint(sub="b-aud-a", now=now, audience="api-a"),
    ]
    rng = random.Random(5)
    answers: set[Any] = set()
    hits = 0
    for step in range(400):
        roll = rng.random()
        if roll < 0.05:
            clock.now += rng.choice([1, 6, 61, 121, 300])
        elif roll < 0.06:
            issuer = rng.choice([a, b])  # A new key with the same kid: old tokens fail.
            issuer.keys[:] = [DevKey.generate("ES256", kid="shared")]
        else:
            token = rng.choice(tokens)
            before = entries()
            got, expected = outcome(cached, token), outcome(full, token)
            assert got == expected, (step, got, expected)
            answers.add(got[0] if got[0] == "ok" else got[1])
            hits += got[0] == "ok" and token.encode() in before
    assert hits > 20
    assert {"ok", "signature", "audience"} <= answers
    cached.close()
    full.close()


def test_no_cache_with_a_token_age_limit() -> None:
    """A hit rechecks exp/nbf/iat only, not ``max_token_age``: with one, nothing is cached."""
    issuer = Issuer(ISSUER, audience=AUDIENCE, keys=[KEYS[0]])
    clock = Clock()
    settings = dataclasses.replace(settings_for(issuer, 3), max_token_age=60.0)
    transport = issuer.transport()
    auth = Authenticator(settings, transport=transport, sync_transport=transport, clock=clock)
    assert auth.token_cache is None
    token = issuer.mint(now=clock.now)
    for _ in range(3):
        auth.authenticate_sync(token)
    clock.now += 66  # Past the age limit and its leeway (5 s), long before exp.
    assert outcome(auth, token)[:2] == (TokenTooOld, "too_old")
    auth.close()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            "ab\udcff.cd.ef", id="lone-surrogate"
        ),  # What argv gives for a non-UTF-8 byte.
        pytest.param("\ud800", id="only-a-surrogate"),
        pytest.param("é.e.e", id="non-ascii"),
        pytest.param("\x00", id="nul"),
        pytest.param("", id="empty"),
    ],
)
def test_strings_that_cannot_be_tokens_are_refused_alike(
    portal: BlockingPortal, token: str
) -> None:
    """Regression: with the cache on, ``authenticate`` encoded the str to look it up and a
    lone surrogate raised ``UnicodeEncodeError`` (``jwtgate verify`` printed a traceback);
    with the cache off the same str was a ``MalformedToken``."""
    model = Model()
    try:
        for face in (None, portal):
            cached = outcome(model.cached, token, face)
            assert cached == outcome(model.full, token, face)
            assert cached[:2] == (MalformedToken, "malformed")
    finally:
        model.teardown()


def test_cli_verify_refuses_a_non_utf8_argument(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("JWTGATE_")]:
        monkeypatch.delenv(name)
    argv = ["verify", os.fsdecode(b"ab\xff.cd.ef"), "--issuer", ISSUER, "--audience", AUDIENCE]
    assert main([*argv, "--jwks-url", f"{ISSUER}/jwks.json"]) == 1
    assert "FAILED malformed" in capsys.readouterr().err


class LegacyKeySource:
    """A custom key source written against ``KeySource`` before it had ``fresh_until``."""

    def __init__(self, inner: RemoteKeySet) -> None:
        self._inner = inner

    @property
    def keys(self) -> Any:
        return self._inner.keys

    @property
    def ready(self) -> bool:
        return self._inner.ready

    def state(self) -> Any:
        return self._inner.state()

    async def get_key(self, kid: str | None, alg: str) -> Any:
        return await self._inner.get_key(kid, alg)

    def get_key_sync(self, kid: str | None, alg: str) -> Any:
        return self._inner.get_key_sync(kid, alg)

    async def refresh(self) -> Any:
        return await self._inner.refresh()

    def refresh_sync(self) -> Any:
        return self._inner.refresh_sync()

    async def keep_fresh(self) -> None:
        await self._inner.keep_fresh()

    def start_refresh_thread(self) -> None:
        pass

    async def aclose(self) -> None:
        await self._inner.aclose()

    def close(self) -> None:
        self._inner.close()


def test_a_key_source_without_fresh_until_still_gets_cache_hits(portal: BlockingPortal) -> None:
    """Regression: ``fresh_until`` came with the cache's fast path, which read it on every
    hit: a custom key source without it raised AttributeError (a 500) from the first hit."""
    issuer = Issuer(ISSUER, audience=AUDIENCE, keys=[KEYS[0]])
    clock = Clock()
    token = issuer.mint(sub="alice", now=clock.now)
    answers = []
    for size in (3, 0):
        settings = settings_for(issuer, size)
        transport = issuer.transport()
        remote = RemoteKeySet(settings, transport=transport, sync_transport=transport, clock=clock)
        auth = Authenticator(settings, key_set=LegacyKeySource(remote), clock=clock)  # type: ignore[arg-type]
        got = [outcome(auth, token, face) for face in (None, portal, None, portal)]
        if auth.token_cache is not None:
            assert len(auth.token_cache) == 1  # Cached, and answered from the cache since.
        answers.append(got)
        portal.call(auth.aclose)
    assert answers[0] == answers[1]
    assert answers[0][0][0] == "ok"
