"""Verified-token cache: hits skip the signature check, but never accept what the full path rejects."""

import dataclasses
from typing import Any

import pytest

from jwtgate import (
    Authenticator,
    ConfigurationError,
    ExpiredToken,
    ImmatureToken,
    Settings,
    UnknownKey,
)
from jwtgate._cache import TokenCache
from jwtgate._jwk import JWK
from jwtgate._token import UnverifiedToken
from jwtgate._verifier import TokenVerifier, VerifiedToken
from jwtgate.testing import Issuer

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingVerifier(TokenVerifier):
    calls = 0

    def verify_with_key(self, unverified: UnverifiedToken, key: JWK, now: float) -> VerifiedToken:
        self.calls += 1
        return super().verify_with_key(unverified, key, now)


def make(issuer: Issuer, clock: Clock, **overrides: Any) -> tuple[Authenticator, CountingVerifier]:
    # Refresh on demand, on the fake clock (no background refresher running on real time).
    settings = issuer.settings(**{"jwks_background_refresh": False, **overrides})
    transport = issuer.transport()
    auth = Authenticator(settings, transport=transport, sync_transport=transport, clock=clock)
    verifier = CountingVerifier(settings)
    # Count the signature checks of the (single) issuer's verification path.
    entry = dataclasses.replace(auth._issuers[settings.issuer], verifier=verifier)
    auth._issuers[settings.issuer] = auth._single = entry
    return auth, verifier


def test_repeated_token_is_verified_once(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock)
    token = issuer.mint(sub="alice", now=clock.now)
    first = auth.authenticate_sync(token)
    assert auth.authenticate_sync(token) is first
    assert verifier.calls == 1
    assert auth.token_cache is not None
    assert len(auth.token_cache) == 1


async def test_async_face_uses_the_cache(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock)
    token = issuer.mint(now=clock.now)
    first = await auth.authenticate(token)
    assert await auth.authenticate(token) is first
    assert verifier.calls == 1
    await auth.aclose()


def test_cached_token_expires_at_exp_plus_leeway(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, leeway=10)
    token = issuer.mint(now=clock.now, expires_in=60)
    auth.authenticate_sync(token)
    clock.now += 60 + 9.5
    auth.authenticate_sync(token)
    assert verifier.calls == 1
    clock.now += 0.5
    with pytest.raises(ExpiredToken):
        auth.authenticate_sync(token)
    assert auth.token_cache is not None
    assert len(auth.token_cache) == 0


def test_cached_token_rechecks_nbf_when_the_clock_goes_back(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, _ = make(issuer, clock, leeway=0)
    token = issuer.mint(now=clock.now - 10, claims={"nbf": int(clock.now)})
    auth.authenticate_sync(token)
    clock.now -= 5
    with pytest.raises(ImmatureToken):
        auth.authenticate_sync(token)


def test_key_set_change_flushes_and_removed_key_stops_verifying(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, jwks_cache_ttl=60)
    old = issuer.keys[0]
    token = issuer.mint(now=clock.now)
    auth.authenticate_sync(token)
    issuer.rotate()
    issuer.keys.remove(old)
    clock.now += 61  # the key set is due for a refresh, which sees the old key gone
    with pytest.raises(UnknownKey):
        auth.authenticate_sync(token)
    assert verifier.calls == 1


def test_new_key_set_with_same_key_reverifies(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, jwks_cache_ttl=60)
    token = issuer.mint(now=clock.now)
    auth.authenticate_sync(token)
    clock.now += 61
    auth.authenticate_sync(token)
    assert (
        verifier.calls == 2
    )  # a refreshed KeySet is a new object: entries tied to the old one miss
    auth.authenticate_sync(token)
    assert verifier.calls == 2


def test_rejected_tokens_are_not_cached(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, _ = make(issuer, clock)
    token = issuer.mint(now=clock.now - 7200, expires_in=60)
    for _ in range(2):
        with pytest.raises(ExpiredToken):
            auth.authenticate_sync(token)
    assert auth.token_cache is not None
    assert len(auth.token_cache) == 0


def test_size_zero_turns_the_cache_off(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, token_cache_size=0)
    assert auth.token_cache is None
    token = issuer.mint(now=clock.now)
    auth.authenticate_sync(token)
    auth.authenticate_sync(token)
    assert verifier.calls == 2


def _verified(exp: float) -> VerifiedToken:
    return VerifiedToken(claims={"exp": exp}, header={"alg": "RS256"}, scopes=frozenset())


def test_cache_is_bounded_by_entries_and_bytes_and_keyed_by_digest() -> None:
    keys = object()
    cache = TokenCache(3, leeway=0, max_bytes=250)
    tokens = [f"token-{i:03d}".ljust(100, "x") for i in range(5)]
    for token in tokens:
        cache.put(token, _verified(2e9), keys)
    assert len(cache) == 2
    assert cache.size_bytes == 200
    assert cache.lookup(tokens[0]) is None
    assert cache.lookup(tokens[4]) is not None
    assert all(len(k) == 32 and b"token" not in k for k in cache._entries)
    small = TokenCache(3, leeway=0)
    for token in tokens:
        small.put(token, _verified(2e9), keys)
    assert len(small) == 3
    assert small.lookup(tokens[1]) is None


def test_entry_for_another_key_set_misses_and_is_dropped() -> None:
    cache = TokenCache(3, leeway=0)
    cache.put("t", _verified(2e9), object())
    entry = cache.lookup("t")
    assert entry is not None
    assert cache.valid("t", entry, object(), 0.0) is None
    assert len(cache) == 0


@pytest.mark.parametrize("value", [pytest.param(-1, id="negative"), pytest.param(True, id="bool")])
def test_bad_cache_size_is_refused(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="token_cache_size"):
        Settings(issuer="https://a.example", audience="x", token_cache_size=value)


def test_cache_size_from_env() -> None:
    env = {"JWTGATE_ISSUER": "https://a.example", "JWTGATE_AUDIENCE": "x"}
    assert Settings.from_env({**env, "JWTGATE_TOKEN_CACHE_SIZE": "0"}).token_cache_size == 0
    with pytest.raises(ConfigurationError, match="JWTGATE_TOKEN_CACHE_SIZE"):
        Settings.from_env({**env, "JWTGATE_TOKEN_CACHE_SIZE": "-3"})
