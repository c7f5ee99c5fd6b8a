"""The token cache under concurrency: hits take no lock, so races must only ever cost a miss.

Threads (and tasks) verify a pool of tokens larger than the cache while another thread
keeps replacing the key set: admissions, CLOCK second chances, evictions, entries tied
to a replaced set, all at once. Every answer must be the right one (a token's own
claims, or its own error), and the cache's bookkeeping must add up afterwards.
"""

from __future__ import annotations

import hashlib
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from jwtgate import Authenticator, InvalidSignature
from jwtgate._verify.tokencache import TokenCache
from jwtgate._verify.verifier import VerifiedToken
from jwtgate.testing import DevKey, Issuer

ISSUER = "https://issuer.test"
START = 1_700_000_000.0
THREADS = 8
ROUNDS = 400  # Per thread: a few thousand verifications in all, about a second.
KEY = DevKey.generate("ES256", kid="race")


@pytest.fixture
def switchy() -> Iterator[None]:
    """Switch threads as often as the interpreter can, to interleave the unlocked steps."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def authenticator(issuer: Issuer, **overrides: Any) -> Authenticator:
    settings = issuer.settings(
        jwks_url=issuer.jwks_url,
        algorithms=("ES256",),
        jwks_background_refresh=False,
        token_cache_size=3,
        **overrides,
    )
    transport = issuer.transport()
    return Authenticator(
        settings, transport=transport, sync_transport=transport, clock=lambda: START
    )


def pool(issuer: Issuer) -> tuple[list[str], list[str]]:
    good = [issuer.mint(sub=f"user-{i}", now=START, key=KEY) for i in range(10)]
    bad = [t[:-8] + ("AAAAAAAA" if t[-8:] != "AAAAAAAA" else "BBBBBBBB") for t in good[:2]]
    return good, bad


def check_cache(cache: TokenCache, tokens: list[str], threads: int) -> None:
    """A quiescent cache's bookkeeping, after any interleaving of its unlocked steps."""
    by_index = {hash(t.encode()): t for t in tokens}
    entries = dict(cache._entries)
    assert len(entries) <= cache.max_entries
    assert cache.size_bytes == sum(e.cost for e in entries.values()) <= cache.max_bytes
    for index, entry in entries.items():
        token = by_index[index]  # Only verified tokens of the pool are ever stored...
        assert entry.digest == hashlib.blake2b(token.encode()).digest()  # ...under their own hash.
        assert entry.cost == len(token)
        assert entry.token.claims["sub"] == f"user-{tokens.index(token)}"
    # The admission set restarts at max_entries; racing admits may overshoot by a thread each.
    assert len(cache._seen) <= cache.max_entries + threads
    # Marks: only for pool tokens, and trimmed on every put (stale ones are harmless).
    assert cache._used <= set(by_index)
    assert len(cache._used) <= 2 * cache.max_entries + 64


def test_threads_get_their_own_answers_while_the_cache_churns(
    issuer: Issuer, switchy: None
) -> None:
    issuer = Issuer(ISSUER, audience="api://test", keys=[KEY])
    # No cooldown: the refresher thread replaces the key set as often as it runs.
    auth = authenticator(issuer, jwks_refetch_cooldown=0.0)
    good, bad = pool(issuer)
    auth.prefetch_sync()
    failures: list[str] = []
    done = threading.Event()
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        try:
            for _ in range(ROUNDS):
                i = rng.randrange(len(good) + len(bad))
                if i < len(good):
                    sub = auth.authenticate_sync(good[i]).claims["sub"]
                    if sub != f"user-{i}":
                        failures.append(f"token {i} answered as {sub}")
                else:
                    try:
                        auth.authenticate_sync(bad[i - len(good)])
                    except InvalidSignature:
                        pass
                    else:
                        failures.append(f"tampered token {i - len(good)} accepted")
        except Exception as exc:  # Any other error is a failure too.
            failures.append(f"{type(exc).__name__}: {exc}")

    def refresher() -> None:
        refreshes = 0
        while not done.wait(0.002) or refreshes < 3:  # At least 3, however the threads run.
            auth.key_set.refresh_sync()
            refreshes += 1

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    swapper = threading.Thread(target=refresher)
    swapper.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    swapper.join()
    assert failures == []
    cache = auth.token_cache
    assert cache is not None
    assert auth.key_set.state().fetch_count > 2  # The set really was replaced meanwhile.
    check_cache(cache, good, THREADS + 1)
    # Settled: the current set's entries answer; every pool token is still right.
    for i, token in enumerate(good * 2):
        assert auth.authenticate_sync(token).claims["sub"] == f"user-{i % len(good)}"
    check_cache(cache, good, THREADS + 1)
    auth.close()


def test_cache_alone_never_answers_for_another_token(switchy: None) -> None:
    """TokenCache without the verifier: many more get/admit/put/discard interleavings."""
    tokens = [f"token-{i}-".encode() * (i + 1) for i in range(12)]
    verified = [VerifiedToken({"sub": f"user-{i}", "exp": 2e9}, {"alg": "ES256"}, frozenset()) for i in range(12)]  # fmt: skip
    # Tight on bytes too: the longest tokens push others out by size, not count.
    cache = TokenCache(4, leeway=0, max_bytes=4 * len(tokens[-1]))
    keys = [object(), object()]
    failures: list[str] = []
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(20_000):
            i = rng.randrange(len(tokens))
            token = tokens[i]
            entry = cache.get(token)
            if entry is not None:
                if entry.token is not verified[i]:
                    failures.append(f"token {i} got {entry.token.claims['sub']}")
                if rng.random() < 0.1:
                    cache.discard(token, entry)
            elif cache.admit(token):
                cache.put(token, verified[i], keys[rng.randrange(2)])

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) > 0
    names = [t.decode() for t in tokens]
    by_index = {hash(t): i for i, t in enumerate(tokens)}
    assert len(cache) <= cache.max_entries
    assert cache.size_bytes == sum(e.cost for e in cache._entries.values()) <= cache.max_bytes
    for index, entry in cache._entries.items():
        assert entry.token is verified[by_index[index]], names[by_index[index]]
    assert len(cache._seen) <= cache.max_entries + THREADS
    assert cache._used <= set(by_index)
    assert len(cache._used) <= 2 * cache.max_entries + 64


@pytest.mark.anyio
async def test_concurrent_tasks_get_their_own_answers() -> None:
    issuer = Issuer(ISSUER, audience="api://test", keys=[KEY])
    auth = authenticator(issuer)
    good, bad = pool(issuer)
    failures: list[str] = []

    async def one(i: int) -> None:
        await anyio.lowlevel.checkpoint()  # Let every task start, then interleave at each await.
        if i < len(good):
            sub = (await auth.authenticate(good[i])).claims["sub"]
            if sub != f"user-{i}":
                failures.append(f"token {i} answered as {sub}")
            return
        try:
            await auth.authenticate(bad[i - len(good)])
        except InvalidSignature:
            return
        failures.append(f"tampered token {i - len(good)} accepted")

    rng = random.Random(7)
    async with anyio.create_task_group() as tasks:  # Cold start: every task joins one fetch.
        for _ in range(400):
            tasks.start_soon(one, rng.randrange(len(good) + len(bad)))
    assert failures == []
    assert issuer.requests == ["/.well-known/jwks.json"]
    cache = auth.token_cache
    assert cache is not None
    check_cache(cache, good, 1)
    await auth.aclose()
