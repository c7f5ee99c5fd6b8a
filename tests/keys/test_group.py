"""Many issuers: loaded on first use, refreshed by one scheduler, started in constant time."""

from __future__ import annotations

import anyio
import httpx
import pytest

from jwtgate import Authenticator, IssuerConfig, Settings
from jwtgate._keys.group import EAGER_LIMIT
from jwtgate.testing import DevKey, Issuer

pytestmark = pytest.mark.anyio


class Counting:
    """Serves one JWKS at every issuer's URL and counts the fetches per host."""

    def __init__(self, key: DevKey) -> None:
        self.jwks = Issuer("https://x.test", keys=[key]).jwks()
        self.fetches: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.fetches[host] = self.fetches.get(host, 0) + 1
        return httpx.Response(200, json=self.jwks, headers={"cache-control": "max-age=300"})


def many(count: int, server: Counting, clock: list[float]) -> Authenticator:
    issuers = [
        IssuerConfig(
            issuer=f"https://t{i}.test", audience=("api",), jwks_url=f"https://t{i}.test/jwks"
        )
        for i in range(count)
    ]
    return Authenticator(
        Settings(issuers=issuers), transport=httpx.MockTransport(server), clock=lambda: clock[0]
    )


async def test_many_issuers_load_lazily_and_one_scheduler_refreshes_those_in_use(
    rsa_key: DevKey,
) -> None:
    server, clock = Counting(rsa_key), [1_800_000_000.0]
    auth = many(EAGER_LIMIT + 4, server, clock)
    group = auth.key_sources
    assert group.lazy
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(auth.keep_fresh)
        await anyio.sleep(0.05)
        assert server.fetches == {}  # Nothing fetched at startup.
        assert group.ready  # Nothing asked for yet, nothing failing.
        token = Issuer("https://t3.test", audience="api", keys=[rsa_key]).mint(now=clock[0])
        verified = await auth.authenticate(token)
        assert verified.issuer == "https://t3.test"
        assert server.fetches == {"t3.test": 1}  # Only the issuer in use.
        assert group.due()[0] == []
        clock[0] += 300  # Past the refresh point (75-90 % of max-age).
        due, _ = group.due()
        assert [s.state().issuer for s in due] == ["https://t3.test"]
        tasks.cancel_scope.cancel()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(auth.keep_fresh)  # One scheduler pass refreshes what is due.
        await anyio.sleep(0.1)
        tasks.cancel_scope.cancel()
    assert server.fetches == {"t3.test": 2}
    assert group.due()[0] == []
    await auth.aclose()


async def test_a_few_issuers_are_loaded_at_startup(rsa_key: DevKey) -> None:
    server, clock = Counting(rsa_key), [1_800_000_000.0]
    auth = many(3, server, clock)
    assert not auth.key_sources.lazy
    await auth.prefetch()
    assert server.fetches == {"t0.test": 1, "t1.test": 1, "t2.test": 1}
    await auth.aclose()


def test_the_sync_face_runs_one_refresher_thread_for_many_issuers(rsa_key: DevKey) -> None:
    import threading

    server, clock = Counting(rsa_key), [1_800_000_000.0]
    issuers = [
        IssuerConfig(
            issuer=f"https://t{i}.test", audience=("api",), jwks_url=f"https://t{i}.test/jwks"
        )
        for i in range(EAGER_LIMIT * 4)
    ]
    auth = Authenticator(
        Settings(issuers=issuers),
        sync_transport=httpx.MockTransport(server),
        clock=lambda: clock[0],
    )

    def lasting() -> int:  # A fetch runs in a thread that ends with it: count the others.
        return sum(1 for t in threading.enumerate() if t.name != "jwtgate-jwks-fetch")

    before = lasting()
    token = Issuer("https://t7.test", audience="api", keys=[rsa_key]).mint(now=clock[0])
    assert auth.authenticate_sync(token).issuer == "https://t7.test"
    assert lasting() - before == 1
    assert server.fetches == {"t7.test": 1}
    auth.close()
