"""RemoteKeySet: the cache rules, with an injected clock and transport (no sleeping)."""

from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from jwtgate import KeySetUnavailable, RemoteKeySet, Settings, UnknownKey
from jwtgate.testing import DevKey, Issuer

ISS = "https://issuer.test"
JWKS_URL = f"{ISS}/.well-known/jwks.json"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Upstream:
    """A scriptable issuer behind an httpx transport; counts requests per path."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.hits: list[str] = []
        self.fail_with: int | Exception | None = None
        self.override: Callable[[httpx.Request], httpx.Response] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.hits.append(request.url.path)
        if isinstance(self.fail_with, Exception):
            raise self.fail_with
        if self.fail_with is not None:
            return httpx.Response(self.fail_with)
        if self.override is not None:
            return self.override(request)
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.issuer.jwks())
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.issuer.discovery())
        return httpx.Response(404)

    def sync_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def upstream(issuer: Issuer) -> Upstream:
    return Upstream(issuer)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(upstream: Upstream, clock: Clock, **settings: Any) -> RemoteKeySet:
    settings.setdefault("jwks_url", JWKS_URL)
    return RemoteKeySet(
        Settings(issuer=ISS, audience="api", **settings),
        transport=upstream.transport(),
        sync_transport=upstream.sync_transport(),
        clock=clock,
    )


pytestmark = pytest.mark.anyio


async def test_keys_are_fetched_once_and_reused(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock)
    assert not keys.ready
    for _ in range(50):
        assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"
    assert upstream.hits == ["/.well-known/jwks.json"]
    assert keys.ready
    assert keys.fetched_at == clock.now
    assert keys.last_error is None


async def test_discovery_finds_the_jwks(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock, jwks_url=None)
    await keys.get_key("rsa-1", "RS256")
    await keys.get_key("rsa-1", "RS256")
    assert upstream.hits == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]


async def test_discovery_falls_back_to_rfc8414(upstream: Upstream, clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=upstream.issuer.discovery())
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json=upstream.issuer.jwks())
        return httpx.Response(404)

    upstream.override = handler
    keys = make(upstream, clock, jwks_url=None)
    await keys.get_key("rsa-1", "RS256")
    assert upstream.hits == [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ]


async def test_discovery_for_an_issuer_with_a_path_tries_rfc8414_insertion(
    issuer: Issuer,
) -> None:
    # RFC 8414 §3.1: https://idp.test/tenant1 -> /.well-known/oauth-authorization-server/tenant1
    iss = "https://idp.test/tenant1"
    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        if request.url.path == "/.well-known/oauth-authorization-server/tenant1":
            return httpx.Response(200, json={"issuer": iss, "jwks_uri": f"{iss}/keys"})
        if request.url.path == "/tenant1/keys":
            return httpx.Response(200, json=issuer.jwks())
        return httpx.Response(404)

    settings = Settings(issuer=iss, audience="api", jwks_background_refresh=False)
    keys = RemoteKeySet(settings, transport=httpx.MockTransport(handler))
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"
    assert hits == [
        "/tenant1/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/tenant1",
        "/tenant1/keys",
    ]
    await keys.aclose()


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param(
            {"issuer": "https://evil.test", "jwks_uri": JWKS_URL},
            "another issuer",
            id="issuer-mismatch",
        ),
        pytest.param(
            {"issuer": ISS + "/", "jwks_uri": JWKS_URL}, "another issuer", id="issuer-slash"
        ),
        pytest.param({"issuer": ISS}, "no jwks_uri", id="no-jwks-uri"),
        pytest.param(
            {"issuer": ISS, "jwks_uri": "http://evil.test/jwks"}, "https", id="jwks-uri-http"
        ),
        pytest.param(["not", "an", "object"], "not a JSON object", id="not-object"),
    ],
)
async def test_discovery_documents_are_checked(
    upstream: Upstream, clock: Clock, document: Any, problem: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/.well-known/o"):
            return httpx.Response(200, json=document)
        return httpx.Response(200, json=upstream.issuer.jwks())

    upstream.override = handler
    keys = make(upstream, clock, jwks_url=None)
    with pytest.raises(KeySetUnavailable):
        await keys.get_key("rsa-1", "RS256")
    assert problem in (keys.last_error or "")
    assert "/.well-known/jwks.json" not in upstream.hits


async def test_unknown_kid_refetches_at_most_once_per_cooldown(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock, jwks_refetch_cooldown=5)
    await keys.get_key("rsa-1", "RS256")
    for i in range(100):
        with pytest.raises(UnknownKey):
            await keys.get_key(f"random-{i}", "RS256")
    assert len(upstream.hits) == 1  # The first fetch was < 5 s ago: no refetch.
    clock.now += 5
    for i in range(100):
        with pytest.raises(UnknownKey):
            await keys.get_key(f"random-{i}", "RS256")
    assert len(upstream.hits) == 2


async def test_a_rotated_key_is_picked_up_after_the_cooldown(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock)
    await keys.get_key("rsa-1", "RS256")
    new = DevKey.generate("ES256", kid="new")
    upstream.issuer.keys.append(new)
    clock.now += 5
    assert (await keys.get_key("new", "ES256")).kid == "new"
    assert len(upstream.hits) == 2


async def test_a_removed_key_stops_verifying_after_a_refresh(
    upstream: Upstream, clock: Clock, rsa_key_2: DevKey
) -> None:
    upstream.issuer.keys.append(rsa_key_2)
    keys = make(upstream, clock, jwks_cache_ttl=60)
    await keys.get_key("rsa-2", "RS256")
    upstream.issuer.keys.remove(rsa_key_2)
    clock.now += 61
    with pytest.raises(UnknownKey):
        await keys.get_key("rsa-2", "RS256")
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"


async def test_expired_set_is_refreshed(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock, jwks_cache_ttl=60)
    await keys.get_key("rsa-1", "RS256")
    clock.now += 59
    await keys.get_key("rsa-1", "RS256")
    assert len(upstream.hits) == 1
    clock.now += 2
    await keys.get_key("rsa-1", "RS256")
    assert len(upstream.hits) == 2


async def test_last_good_keys_serve_through_an_outage_for_a_bounded_time(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock, jwks_cache_ttl=60, jwks_max_stale=600, jwks_refetch_cooldown=5)
    await keys.get_key("rsa-1", "RS256")
    upstream.fail_with = 503
    clock.now += 61
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"  # Stale but usable.
    assert "HTTP 503" in (keys.last_error or "")
    for _ in range(20):
        await keys.get_key("rsa-1", "RS256")
    assert len(upstream.hits) == 2  # Failures are retried only after the cooldown.
    clock.now += 600
    with pytest.raises(KeySetUnavailable) as info:
        await keys.get_key("rsa-1", "RS256")
    assert info.value.status_code == 503
    assert info.value.retry_after >= 1
    upstream.fail_with = None
    clock.now += 5
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"  # Recovered.


async def test_unknown_kid_during_an_outage_is_503_not_401(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock)
    await keys.get_key("rsa-1", "RS256")
    upstream.fail_with = httpx.ConnectError("refused")
    clock.now += 5
    with pytest.raises(KeySetUnavailable):
        await keys.get_key("rotated", "RS256")


async def test_cold_outage_answers_503_without_hammering(upstream: Upstream, clock: Clock) -> None:
    upstream.fail_with = httpx.ConnectError("refused")
    keys = make(upstream, clock, jwks_refetch_cooldown=5)
    for _ in range(50):
        with pytest.raises(KeySetUnavailable) as info:
            await keys.get_key("rsa-1", "RS256")
    assert len(upstream.hits) == 1
    assert 1 <= info.value.retry_after <= 5
    upstream.fail_with = None
    clock.now += 5
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"
    assert len(upstream.hits) == 2


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        pytest.param(httpx.Response(500), "HTTP 500", id="500"),
        pytest.param(httpx.Response(404), "HTTP 404", id="404"),
        pytest.param(
            httpx.Response(302, headers={"location": "https://evil.test/jwks"}),
            "HTTP 302",
            id="redirect",
        ),
        pytest.param(httpx.Response(200, content=b"<html>"), "not valid JSON", id="garbage"),
        pytest.param(httpx.Response(200, json={"keys": []}), "no usable key", id="empty-set"),
        pytest.param(
            httpx.Response(200, json={"keys": [{"kty": "RSA", "use": "enc"}]}),
            "no usable key",
            id="only-unusable",
        ),
        pytest.param(
            httpx.Response(200, content=b'{"keys": [' + b" " * 70000 + b"]}"),
            "more than",
            id="oversize",
        ),
    ],
)
async def test_bad_fetches_fail_without_replacing_good_keys(
    upstream: Upstream, clock: Clock, response: httpx.Response, problem: str
) -> None:
    keys = make(upstream, clock, jwks_cache_ttl=60)
    await keys.get_key("rsa-1", "RS256")
    upstream.override = lambda request: response
    clock.now += 61
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"
    assert problem in (keys.last_error or "")
    assert len(upstream.hits) == 2


async def test_concurrent_first_requests_share_one_fetch(upstream: Upstream, clock: Clock) -> None:
    gate = anyio.Event()
    original = upstream.handle

    async def slow(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return original(request)

    keys = RemoteKeySet(
        Settings(issuer=ISS, audience="api", jwks_url=JWKS_URL),
        transport=httpx.MockTransport(slow),  # type: ignore[arg-type]
        clock=clock,
    )
    results: list[str | None] = []

    async def one() -> None:
        results.append((await keys.get_key("rsa-1", "RS256")).kid)

    async with anyio.create_task_group() as tasks:
        for _ in range(100):
            tasks.start_soon(one)
        await anyio.sleep(0.05)
        gate.set()
    assert results == ["rsa-1"] * 100
    assert upstream.hits == ["/.well-known/jwks.json"]
    assert keys.fetch_count == 1


def test_sync_face_shares_the_rules(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock)
    assert keys.get_key_sync("rsa-1", "RS256").kid == "rsa-1"
    with pytest.raises(UnknownKey):
        keys.get_key_sync("nope", "RS256")
    assert len(upstream.hits) == 1
    upstream.fail_with = 500
    clock.now += 10_000
    with pytest.raises(KeySetUnavailable):
        keys.get_key_sync("rsa-1", "RS256")
    keys.close()


def test_sync_face_threads_share_one_fetch(upstream: Upstream, clock: Clock) -> None:
    import threading
    import time

    original = upstream.handle

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return original(request)

    keys = RemoteKeySet(
        Settings(issuer=ISS, audience="api", jwks_url=JWKS_URL),
        sync_transport=httpx.MockTransport(slow),
        clock=clock,
    )
    threads = [
        threading.Thread(target=keys.get_key_sync, args=("rsa-1", "RS256")) for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert upstream.hits == ["/.well-known/jwks.json"]


async def test_injected_client_is_used_and_not_closed(upstream: Upstream, clock: Clock) -> None:
    async with httpx.AsyncClient(transport=upstream.transport()) as client:
        keys = RemoteKeySet(
            Settings(issuer=ISS, audience="api", jwks_url=JWKS_URL), http_client=client, clock=clock
        )
        await keys.get_key("rsa-1", "RS256")
        await keys.aclose()
        assert not client.is_closed
    assert upstream.hits == ["/.well-known/jwks.json"]
