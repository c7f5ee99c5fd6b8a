"""The replay stores: in-process (bounded) and on a real redis-server (shared, fail-closed)."""

from __future__ import annotations

import logging

import anyio
import pytest
import redis

from jwtgate import MemoryReplayStore, StateUnavailable
from jwtgate.redis import RedisReplayStore, RedisState

from redis_server import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_remembers_until_expiry() -> None:
    clock = Clock()
    store = MemoryReplayStore(10, clock=clock)
    assert store.remember_sync("a", 60) is True
    assert store.remember_sync("a", 60) is False
    assert anyio.run(store.remember, "a", 60) is False
    clock.now += 61
    assert store.remember_sync("a", 60) is True


def test_memory_store_is_bounded_and_fails_closed() -> None:
    clock = Clock()
    store = MemoryReplayStore(3, clock=clock)
    for key in "abc":
        assert store.remember_sync(key, 60)
    # Full of live entries: forgetting one would let its proof be replayed.
    with pytest.raises(StateUnavailable):
        store.remember_sync("d", 60)
    assert store.remember_sync("a", 60) is False
    clock.now += 61  # Expired entries make room.
    assert store.remember_sync("d", 60) is True
    assert len(store) == 1


def test_memory_store_sweeps_entries_with_shorter_lifetimes() -> None:
    clock = Clock()
    store = MemoryReplayStore(2, clock=clock)
    assert store.remember_sync("long", 600)
    assert store.remember_sync("short", 1)
    clock.now += 2
    assert store.remember_sync("new", 60)  # "short" expired behind a live "long".
    assert store.remember_sync("long", 600) is False


@pytest.mark.integration
def test_redis_store_is_shared_and_sets_the_ttl(redis_server: RedisServer) -> None:
    first, second = RedisState(redis_server.url), RedisState(redis_server.url)
    a, b = RedisReplayStore(first), RedisReplayStore(second)
    try:
        assert a.remember_sync("k1", 70) is True
        assert b.remember_sync("k1", 70) is False  # Another worker sees it.

        async def run() -> list[bool]:
            try:
                return [await b.remember("k2", 70), await a.remember("k2", 70)]
            finally:
                await a.aclose()
                await b.aclose()

        assert anyio.run(run) == [True, False]
        assert a.remember_sync("k2", 70) is False  # Async and sync faces share the keys.
        raw = redis.Redis(port=redis_server.port)
        ttl = raw.pttl("jwtgate:replay:k1")
        raw.close()
        assert 0 < ttl <= 70_000
    finally:
        a.close()
        b.close()


@pytest.mark.integration
def test_redis_down_fails_closed_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    host = redis_server.url.replace("redis://", "redis://:not-the-password@")
    caplog.set_level(logging.WARNING, logger="jwtgate")
    state = RedisState(redis_server.url, timeout=0.5, cooldown=0.0)
    store = RedisReplayStore(state)
    try:
        assert store.remember_sync("x", 60)
        redis_server.stop()
        with pytest.raises(StateUnavailable):
            store.remember_sync("y", 60)

        async def down() -> None:
            try:
                with pytest.raises(StateUnavailable):
                    await store.remember("y", 60)
            finally:
                await store.aclose()

        anyio.run(down)
        assert "unreachable" in caplog.text
        redis_server.start()  # Same port: the pooled connections died with the old process.
        assert store.remember_sync("y", 60) is True
        assert "reachable again" in caplog.text
    finally:
        store.close()
    secret = RedisState(host)
    assert "not-the-password" not in repr(secret)
    assert "***" in repr(secret)
