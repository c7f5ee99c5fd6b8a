"""Fault injection: a real JWKS server on 127.0.0.1 misbehaves; counts are taken server-side.

Each fault is injected after a good fetch (the cache is warm) and, separately, before
any (cold). Warm: the last good keys keep verifying, an unknown kid gets 503, and the
failure is retried only after the cooldown. Cold: 503, one fetch for many requests.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jwtgate import KeySetUnavailable, RemoteKeySet, Settings
from jwtgate.testing import DevKey, Issuer

from servers import JWKSServer, free_port, jwks_server

pytestmark = pytest.mark.anyio

JWKS = "/jwks"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server(rsa_key: DevKey) -> Iterator[JWKSServer]:
    with jwks_server() as server:
        server.documents[JWKS] = {"keys": [rsa_key.public_jwk]}
        server.documents["/other"] = {"keys": [rsa_key.public_jwk]}
        yield server


def key_set(url: str, clock: Clock, **settings: Any) -> RemoteKeySet:
    settings.setdefault("jwks_cache_ttl", 60)
    # Short, with room for a loaded machine: a fault must not be mistaken for another.
    settings.setdefault("http_timeout", 0.5)
    settings.setdefault("http_total_timeout", 0.9)
    return RemoteKeySet(
        Settings(issuer="https://issuer.test", audience="api", jwks_url=url, **settings),
        clock=clock,
    )


def body(text: str) -> bytes:
    return text.encode()


Fault = Callable[[JWKSServer], None]

FAULTS = [
    pytest.param(lambda s: s.fail(500), "HTTP 500", id="500"),
    pytest.param(lambda s: s.fail(404), "HTTP 404", id="404"),
    pytest.param(
        lambda s: s.answer(302, headers={"Location": s.url + "/other"}), "HTTP 302", id="redirect"
    ),
    pytest.param(
        lambda s: s.answer(301, headers={"Location": "https://evil.test/jwks"}),
        "HTTP 301",
        id="redirect-offsite",
    ),
    pytest.param(lambda s: setattr(s, "delay", 1.0), "ReadTimeout", id="slow-headers"),
    pytest.param(
        lambda s: s.answer(body=b'{"keys": []}' * 10, drip=0.1),
        "timed out",
        id="slow-body",
    ),
    pytest.param(
        lambda s: s.answer(body=b'{"keys": [', length=5000), "RemoteProtocolError", id="truncated"
    ),
    pytest.param(lambda s: s.answer(body=b"<html>oops</html>"), "not valid JSON", id="garbage"),
    pytest.param(
        lambda s: s.answer(body=b'{"keys": "nope"}'), "not a JSON object", id="not-a-jwks"
    ),
    pytest.param(
        lambda s: s.answer(body=b'{"keys": [' + b" " * 70_000 + b"]}"), "more than", id="oversize"
    ),
    pytest.param(lambda s: s.answer(body=b'{"keys": []}'), "no usable key", id="empty-key-list"),
    pytest.param(
        lambda s: s.answer(body=b'{"keys": [{"kty": "RSA", "kid": "x", "use": "enc"}]}'),
        "no usable key",
        id="only-unusable-keys",
    ),
]


@pytest.mark.parametrize(("fault", "problem"), FAULTS)
async def test_fault_with_warm_cache(server: JWKSServer, fault: Fault, problem: str) -> None:
    clock = Clock()
    keys = key_set(server.url + JWKS, clock)
    good = await keys.get_key("rsa-1", "RS256")
    fault(server)
    clock.now += 61  # Expired: the next request refreshes on demand (no refresher running).
    assert await keys.get_key("rsa-1", "RS256") is good  # Last known good.
    assert problem in (keys.last_error or "")
    assert server.total_hits(JWKS) == 2
    for _ in range(20):
        assert await keys.get_key("rsa-1", "RS256") is good
        with pytest.raises(KeySetUnavailable):  # Never a 401 from a stale set.
            await keys.get_key("rotated", "RS256")
    assert server.total_hits(JWKS) == 2  # Within the cooldown: no retry.
    assert server.total_hits("/other") == 0  # Redirects are never followed.
    state = keys.state()
    assert state.stale
    assert state.ready
    assert state.last_error == keys.last_error
    await keys.aclose()


@pytest.mark.parametrize(("fault", "problem"), FAULTS)
async def test_fault_with_cold_cache(server: JWKSServer, fault: Fault, problem: str) -> None:
    clock = Clock()
    fault(server)
    keys = key_set(server.url + JWKS, clock)
    for _ in range(20):
        with pytest.raises(KeySetUnavailable) as info:
            await keys.get_key("rsa-1", "RS256")
    assert info.value.retry_after >= 1
    assert problem in (keys.last_error or "")
    assert server.total_hits(JWKS) == 1
    assert not keys.ready
    await keys.aclose()


async def test_refused_connection() -> None:
    clock = Clock()
    keys = key_set(f"http://127.0.0.1:{free_port()}/jwks", clock)
    for _ in range(10):
        with pytest.raises(KeySetUnavailable):
            await keys.get_key("rsa-1", "RS256")
    assert "connection refused" in (keys.last_error or "")
    assert keys.fetch_count == 1
    await keys.aclose()


def test_sync_face_faults(server: JWKSServer) -> None:
    clock = Clock()
    keys = key_set(server.url + JWKS, clock)
    good = keys.get_key_sync("rsa-1", "RS256")
    server.answer(body=b'{"keys": [', length=100)
    clock.now += 61
    assert keys.get_key_sync("rsa-1", "RS256") is good
    assert "RemoteProtocolError" in (keys.last_error or "")
    server.behaviour = None
    server.answer(body=b"x" * 2000, drip=0.01)
    clock.now += 5
    assert keys.get_key_sync("rsa-1", "RS256") is good  # Waits at most the fetch wait.
    keys.refresh_sync()  # Within the cooldown: waits for the fetch in progress to end.
    assert "timed out (deadline of 0.9 s)" in (keys.last_error or "")
    assert server.total_hits(JWKS) == 3
    keys.close()


async def test_rotated_set_replaces_the_whole_set(
    server: JWKSServer, rsa_key: DevKey, ec_key: DevKey
) -> None:
    clock = Clock()
    keys = key_set(server.url + JWKS, clock)
    first = keys.keys
    await keys.get_key("rsa-1", "RS256")
    server.documents[JWKS] = {"keys": [ec_key.public_jwk]}  # rsa-1 retired, ec-1 new.
    clock.now += 5
    assert (await keys.get_key("ec-1", "ES256")).kid == "ec-1"  # Unknown kid: one refetch.
    assert keys.keys is not first
    assert keys.keys is not None
    assert keys.keys.kids == ("ec-1",)
    with pytest.raises(Exception, match="not in the issuer's key set"):
        await keys.get_key("rsa-1", "RS256")  # Removed: stops verifying at once.
    assert server.total_hits(JWKS) == 2
    await keys.aclose()


async def test_discovery_issuer_must_match(rsa_key: DevKey) -> None:
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[rsa_key])
        document = issuer.discovery() | {"issuer": "https://evil.test"}
        server.documents["/.well-known/openid-configuration"] = document
        server.documents["/.well-known/jwks.json"] = issuer.jwks()
        keys = RemoteKeySet(issuer.settings())
        with pytest.raises(KeySetUnavailable):
            await keys.get_key("rsa-1", "RS256")
        assert "names another issuer" in (keys.last_error or "")
        assert server.total_hits("/.well-known/jwks.json") == 0
        await keys.aclose()


async def test_cache_control_from_a_real_server(server: JWKSServer) -> None:
    clock = Clock()
    server.headers[JWKS] = {"Cache-Control": "public, max-age=120"}
    keys = key_set(server.url + JWKS, clock, jwks_cache_ttl=10)
    await keys.get_key("rsa-1", "RS256")
    assert keys.state().expires_at == clock.now + 120
    clock.now += 100  # Past the configured 10 s, within the server's 120 s.
    await keys.get_key("rsa-1", "RS256")
    assert server.total_hits(JWKS) == 1
    clock.now += 21
    await keys.get_key("rsa-1", "RS256")
    assert server.total_hits(JWKS) == 2
    await keys.aclose()
