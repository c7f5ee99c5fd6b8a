"""Introspection answers shared through a real redis-server: many workers, one call per token."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest
import redis

from jwtgate import Authenticator
from jwtgate.testing import Issuer

from helpers import bearer
from servers import free_port, server_process

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def shared(live: Issuer, redis_url: str, **overrides: Any) -> Authenticator:
    return Authenticator(live.settings(introspection=True, redis_url=redis_url, **overrides))


@pytest.fixture
def flushed(redis_url: str) -> str:
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


async def test_two_workers_ask_once_per_token(live: Issuer, flushed: str) -> None:
    token = live.mint_opaque(sub="shared", scopes=["items:read"])
    first, second = shared(live, flushed), shared(live, flushed)
    assert (await first.authenticate(token)).subject == "shared"
    assert second.authenticate_sync(token).scopes == {"items:read"}  # The sync face reads it too.
    assert live.opaque.calls == 1
    await first.aclose()
    second.close()


async def test_refusals_are_shared_briefly_too(live: Issuer, flushed: str) -> None:
    first, second = shared(live, flushed), shared(live, flushed)
    for authenticator in (first, second):
        with pytest.raises(Exception, match="not active"):
            await authenticator.authenticate("never-minted")
    assert live.opaque.calls == 1
    await first.aclose()
    await second.aclose()


async def test_entries_are_digests_bounded_by_exp_and_max_age(live: Issuer, flushed: str) -> None:
    client = redis.Redis.from_url(flushed)
    short, long = live.mint_opaque(expires_in=20), live.mint_opaque(expires_in=3600)
    authenticator = shared(live, flushed, introspection_cache_ttl=60)
    await authenticator.authenticate(short)
    await authenticator.authenticate(long)
    keys = client.keys("jwtgate:introspection:*")
    assert len(keys) == 2
    ttls = sorted(client.pttl(key) for key in keys)
    assert 0 < ttls[0] <= 20_000  # Never past the token's exp ...
    assert 20_000 < ttls[1] <= 60_000  # ... nor past the maximum age.
    stored = b"".join(keys) + b"".join(client.get(key) or b"" for key in keys)
    assert short.encode() not in stored
    assert long.encode() not in stored
    await authenticator.aclose()


async def test_with_max_age_zero_active_answers_are_not_shared(live: Issuer, flushed: str) -> None:
    token = live.mint_opaque()
    first = shared(live, flushed, introspection_cache_ttl=0)
    second = shared(live, flushed, introspection_cache_ttl=0)
    await first.authenticate(token)
    await second.authenticate(token)
    assert live.opaque.calls == 2
    assert redis.Redis.from_url(flushed).keys("jwtgate:introspection:*") == []
    await first.aclose()
    await second.aclose()


async def test_redis_down_falls_back_to_asking_the_server(
    live: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    token = live.mint_opaque(sub="fallback")
    authenticator = shared(live, f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="jwtgate"):
        assert (await authenticator.authenticate(token)).subject == "fallback"
        assert authenticator.authenticate_sync(token).subject == "fallback"
    assert live.opaque.calls == 1  # The local cache still works.
    assert "unreachable" in caplog.text
    await authenticator.aclose()
    authenticator.close()


def test_two_server_processes_share_answers(live: Issuer, flushed: str) -> None:
    env = {
        "JWTGATE_ISSUER": live.issuer,
        "JWTGATE_AUDIENCE": live.audience,
        "JWTGATE_INTROSPECTION_URL": live.introspection_url,
        "JWTGATE_INTROSPECTION_CLIENT_ID": live.opaque.client_id,
        "JWTGATE_INTROSPECTION_CLIENT_SECRET": live.opaque.client_secret,
        "JWTGATE_REDIS_URL": flushed,
    }
    token = live.mint_opaque(sub="everywhere", scopes=["items:read"])
    with (
        server_process("examples.app:app", env) as one,
        server_process("examples.flask_app:app", env) as two,
    ):
        for base in (one, two, one, two):
            response = httpx.get(base + "/me", headers=bearer(token), timeout=10)
            assert response.status_code == 200
            assert response.json()["sub"] == "everywhere"
    assert live.opaque.calls == 1


async def test_a_shared_answer_past_its_bound_on_our_clock_is_asked_again(
    live: Issuer, flushed: str
) -> None:
    # Redis expires entries on its own clock; an instance whose clock is ahead must not
    # take an answer that, by its clock, may no longer be used.
    token = live.mint_opaque()
    settings = live.settings(introspection=True, redis_url=flushed, introspection_cache_ttl=30)
    first = Authenticator(settings)
    ahead = Authenticator(settings, clock=lambda: time.time() + 31)
    await first.authenticate(token)
    await ahead.authenticate(token)
    assert live.opaque.calls == 2
    await first.aclose()
    await ahead.aclose()
