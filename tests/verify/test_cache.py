"""Verified-token cache: hits skip the signature check, but never accept what the full path rejects."""

import dataclasses
import hashlib
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
from jwtgate._keys.jwk import JWK
from jwtgate._verify.token import UnverifiedToken
from jwtgate._verify.tokencache import TokenCache
from jwtgate._verify.verifier import TokenVerifier, VerifiedToken
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


def test_repeated_token_is_cached_from_its_second_use(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock)
    token = issuer.mint(sub="alice", now=clock.now)
    auth.authenticate_sync(token)
    assert auth.token_cache is not None
    assert len(auth.token_cache) == 0  # Seen once: only its digest is remembered.
    second = auth.authenticate_sync(token)
    assert len(auth.token_cache) == 1
    for _ in range(3):
        assert auth.authenticate_sync(token) is second
    assert verifier.calls == 2


def test_one_off_tokens_leave_no_entries_and_do_not_evict(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, token_cache_size=4)
    kept = issuer.mint(sub="kept", now=clock.now)
    auth.authenticate_sync(kept)
    auth.authenticate_sync(kept)
    for i in range(10):
        auth.authenticate_sync(issuer.mint(sub=f"once-{i}", now=clock.now))
    cache = auth.token_cache
    assert cache is not None
    assert len(cache) == 1
    assert len(cache._seen) <= 4  # The admission set is bounded like the cache.
    calls = verifier.calls
    auth.authenticate_sync(kept)
    assert verifier.calls == calls


async def test_async_face_uses_the_cache(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock)
    token = issuer.mint(now=clock.now)
    await auth.authenticate(token)
    second = await auth.authenticate(token)
    assert await auth.authenticate(token) is second
    assert verifier.calls == 2
    await auth.aclose()


def test_cached_token_expires_at_exp_plus_leeway(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, leeway=10)
    token = issuer.mint(now=clock.now, expires_in=60)
    auth.authenticate_sync(token)
    auth.authenticate_sync(token)
    clock.now += 60 + 9.5
    auth.authenticate_sync(token)
    assert verifier.calls == 2
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
    auth.authenticate_sync(token)
    assert auth.token_cache is not None
    assert len(auth.token_cache) == 1
    clock.now -= 5
    with pytest.raises(ImmatureToken):
        auth.authenticate_sync(token)


def test_key_set_change_flushes_and_removed_key_stops_verifying(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, jwks_cache_ttl=60)
    old = issuer.keys[0]
    token = issuer.mint(now=clock.now)
    auth.authenticate_sync(token)
    auth.authenticate_sync(token)
    issuer.rotate()
    issuer.keys.remove(old)
    clock.now += 61  # the key set is due for a refresh, which sees the old key gone
    with pytest.raises(UnknownKey):
        auth.authenticate_sync(token)
    assert verifier.calls == 2


def test_new_key_set_with_same_key_reverifies(issuer: Issuer) -> None:
    clock = Clock(1_000_000.0)
    auth, verifier = make(issuer, clock, jwks_cache_ttl=60)
    token = issuer.mint(now=clock.now)
    auth.authenticate_sync(token)
    auth.authenticate_sync(token)
    clock.now += 61
    auth.authenticate_sync(token)  # A refreshed KeySet is a new object: its entry misses,
    auth.authenticate_sync(token)  # and the token is admitted again on its next use.
    assert verifier.calls == 4
    auth.authenticate_sync(token)
    assert verifier.calls == 4


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


def test_cache_is_bounded_by_entries_and_bytes_and_holds_no_token() -> None:
    keys = object()
    cache = TokenCache(3, leeway=0, max_bytes=250)
    tokens = [f"token-{i:03d}".ljust(100, "x").encode() for i in range(5)]
    for token in tokens:
        cache.put(token, _verified(2e9), keys)
    assert len(cache) == 2
    assert cache.size_bytes == 200
    assert cache.get(tokens[0]) is None
    entry = cache.get(tokens[4])
    assert entry is not None
    assert entry.digest == hashlib.blake2b(tokens[4]).digest()
    assert "token-" not in repr(list(cache._entries.items()))  # Indexes and digests only.
    small = TokenCache(3, leeway=0)
    for token in tokens:
        small.put(token, _verified(2e9), keys)
    assert len(small) == 3
    assert small.get(tokens[1]) is None


def test_a_colliding_index_misses_and_leaves_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TokenCache(3, leeway=0)
    cache.put(b"genuine.token.sig", _verified(2e9), object())
    (index,) = cache._entries
    # Another token landing on the same index (a hash collision) is confirmed by its
    # digest and misses; the genuine entry stays.
    entry = cache._entries.pop(index)
    cache._entries[hash(b"forged.token.sig")] = entry
    assert cache.get(b"forged.token.sig") is None
    assert len(cache) == 1


def test_hits_give_a_second_chance_at_eviction() -> None:
    keys = object()
    cache = TokenCache(3, leeway=0)
    a, b, c, d, e = (f"t{i}".encode() for i in range(5))
    for token in (a, b, c):
        cache.put(token, _verified(2e9), keys)
    assert cache.get(a) is not None  # a is the oldest, but in use
    cache.put(d, _verified(2e9), keys)
    assert cache.get(b) is None  # b went instead
    assert cache.get(a) is not None
    cache.put(e, _verified(2e9), keys)
    assert [cache.get(t) is not None for t in (a, c, d, e)] == [True, False, True, True]


def test_entry_holds_only_for_its_key_set_and_time_window() -> None:
    cache = TokenCache(3, leeway=5)
    keys = object()
    verified = VerifiedToken(
        claims={"exp": 100, "nbf": 50}, header={"alg": "RS256"}, scopes=frozenset()
    )
    cache.put(b"a.b.c", verified, keys)
    entry = cache.get(b"a.b.c")
    assert entry is not None
    assert entry.holds(keys, 45)
    assert entry.holds(keys, 104.9)
    assert not entry.holds(keys, 44.9)  # nbf - leeway
    assert not entry.holds(keys, 105)  # exp + leeway: the full path's first rejection
    assert not entry.holds(object(), 60)
    cache.discard(b"a.b.c", entry)
    assert len(cache) == 0


def test_admission_from_the_second_verification_and_clear_forgets_all() -> None:
    cache = TokenCache(2, leeway=0)
    assert [cache.admit(b"a"), cache.admit(b"a"), cache.admit(b"a")] == [False, True, False]
    for token in (b"b", b"c", b"d"):  # Past max_entries the admission set starts over.
        cache.admit(token)
    assert len(cache._seen) <= 2
    cache.put(b"e", _verified(2e9), object())
    cache.admit(b"f")
    cache.clear()
    assert len(cache) == 0
    assert not cache._seen
    assert cache.size_bytes == 0


@pytest.mark.parametrize("value", [pytest.param(-1, id="negative"), pytest.param(True, id="bool")])
def test_bad_cache_size_is_refused(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="token_cache_size"):
        Settings(issuer="https://a.example", audience="x", token_cache_size=value)


def test_cache_size_from_env() -> None:
    env = {"JWTGATE_ISSUER": "https://a.example", "JWTGATE_AUDIENCE": "x"}
    assert Settings.from_env({**env, "JWTGATE_TOKEN_CACHE_SIZE": "0"}).token_cache_size == 0
    with pytest.raises(ConfigurationError, match="JWTGATE_TOKEN_CACHE_SIZE"):
        Settings.from_env({**env, "JWTGATE_TOKEN_CACHE_SIZE": "-3"})


def test_the_digest_falls_back_to_sha256_where_blake2_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jwtgate._verify import tokencache as _cache

    assert _cache._pick_digest() is hashlib.blake2b

    def refused(*args: object, **kwargs: object) -> None:
        raise ValueError("[digital envelope routines] unsupported")  # a FIPS build's answer

    monkeypatch.setattr(hashlib, "blake2b", refused)
    assert _cache._pick_digest() is hashlib.sha256
    monkeypatch.delattr(hashlib, "blake2b")
    assert _cache._pick_digest() is hashlib.sha256
