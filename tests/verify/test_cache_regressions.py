"""Regressions found while checking the token cache against the full path, one test each.

Each was a case where the cache (on) answered differently from ``token_cache_size=0``,
or failed where the full path did not; see the test docstrings.
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
from test_cache_equivalence import AUDIENCE, ISSUER, KEYS, Clock, Model, outcome, settings_for

from jwtgate import (
    Authenticator,
    ImmatureToken,
    IssuerConfig,
    MalformedToken,
    RemoteKeySet,
    Settings,
    TokenTooOld,
)
from jwtgate._cli.main import main
from jwtgate.testing import DevKey, Issuer


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal("asyncio") as portal:
        yield portal


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
