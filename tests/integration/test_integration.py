"""A real uvicorn and a real JWKS server on 127.0.0.1, talking over sockets."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from jwtgate import JWTGateMiddleware
from jwtgate.testing import DevKey, Issuer

from helpers import bearer, read_items, whoami
from servers import JWKSServer, jwks_server, uvicorn_server

pytestmark = pytest.mark.integration


@pytest.fixture
def upstream(rsa_key: DevKey) -> Iterator[tuple[JWKSServer, Issuer]]:
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[rsa_key])
        server.documents["/.well-known/openid-configuration"] = issuer.discovery()
        server.documents["/.well-known/jwks.json"] = issuer.jwks()
        yield server, issuer


def serve(issuer: Issuer, lifespan: str = "on", **settings: Any) -> Any:
    app = Starlette(routes=[Route("/whoami", whoami), Route("/items", read_items)])
    return uvicorn_server(JWTGateMiddleware(app, issuer.settings(**settings)), lifespan=lifespan)


def get(base: str, path: str, token: str | None = None) -> httpx.Response:
    return httpx.get(base + path, headers=bearer(token) if token else {}, timeout=10)


def test_end_to_end_with_discovery(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    with serve(issuer) as base:
        assert get(base, "/items", issuer.mint(scopes=["items:read"])).status_code == 200
        assert get(base, "/items", issuer.mint(scopes=["other"])).status_code == 403
        assert get(base, "/items").status_code == 401
        for _ in range(10):
            assert get(base, "/whoami", issuer.mint()).status_code == 200
    assert server.hits == {"/.well-known/openid-configuration": 1, "/.well-known/jwks.json": 1}


def test_key_rotation(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    with serve(issuer, jwks_refetch_cooldown=0.2) as base:
        old_token = issuer.mint()
        assert get(base, "/whoami", old_token).status_code == 200
        new_key = issuer.rotate()  # Published alongside the old key.
        server.documents["/.well-known/jwks.json"] = issuer.jwks()
        time.sleep(0.25)
        assert get(base, "/whoami", issuer.mint(key=new_key)).status_code == 200
        assert get(base, "/whoami", old_token).status_code == 200
        issuer.keys.remove(next(k for k in issuer.keys if k.kid != new_key.kid))  # Old key retired.
        server.documents["/.well-known/jwks.json"] = issuer.jwks()
        time.sleep(0.25)
        # A token naming a key unknown to the cache triggers a refresh, which sees the old key gone.
        assert get(base, "/whoami", issuer.mint(headers={"kid": "brand-new"})).status_code == 401
        response = get(base, "/whoami", old_token)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"


def test_outage_with_warm_cache_still_serves(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    with serve(issuer, jwks_cache_ttl=0.3, jwks_refetch_cooldown=0.1) as base:
        token = issuer.mint()
        assert get(base, "/whoami", token).status_code == 200
        server.fail(500)
        time.sleep(0.4)  # The cached set has expired; refreshes fail.
        for _ in range(5):
            assert get(base, "/whoami", token).status_code == 200
        assert server.total_hits("/.well-known/jwks.json") >= 2


def test_cold_outage_is_503_then_recovers(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    server.fail(500)
    with serve(issuer, jwks_refetch_cooldown=0.2) as base:
        token = issuer.mint()
        response = get(base, "/whoami", token)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "temporarily_unavailable"
        assert get(base, "/whoami").status_code == 200  # No token, no keys needed.
        server.behaviour = None
        time.sleep(0.25)
        assert get(base, "/whoami", token).status_code == 200


def test_100_concurrent_first_requests_cause_one_fetch(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    server.delay = 0.3  # A slow issuer: every request arrives while the fetch is in flight.
    token = issuer.mint()

    async def burst(base: str) -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=20) as client:
            responses = await asyncio.gather(
                *(client.get("/whoami", headers=bearer(token)) for _ in range(100))
            )
        return [r.status_code for r in responses]

    with serve(issuer, lifespan="off", jwks_url=f"{server.url}/.well-known/jwks.json") as base:
        statuses = asyncio.run(burst(base))
    assert statuses == [200] * 100
    assert server.hits == {"/.well-known/jwks.json": 1}


def test_flood_of_unknown_kids_causes_bounded_fetches(upstream: tuple[JWKSServer, Issuer]) -> None:
    server, issuer = upstream
    tokens = [issuer.mint(headers={"kid": uuid.uuid4().hex}) for _ in range(300)]

    async def flood(base: str) -> set[int]:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            statuses: set[int] = set()
            for start in range(0, len(tokens), 30):
                batch = tokens[start : start + 30]
                responses = await asyncio.gather(
                    *(client.get("/whoami", headers=bearer(t)) for t in batch)
                )
                statuses.update(r.status_code for r in responses)
            return statuses

    with serve(issuer, jwks_url=f"{server.url}/.well-known/jwks.json") as base:
        assert get(base, "/whoami", issuer.mint()).status_code == 200
        assert asyncio.run(flood(base)) == {401}
    # One fetch at startup, and at most one more per 5-second cooldown.
    assert 1 <= server.total_hits() <= 3


def test_200_concurrent_first_requests_with_a_slow_jwks_do_not_hold_up_others(
    upstream: tuple[JWKSServer, Issuer],
) -> None:
    server, issuer = upstream
    server.delay = 1.0  # A slow issuer: the fetch is in flight while everything else arrives.
    token = issuer.mint()
    finished: list[str] = []

    async def call(client: httpx.AsyncClient, path: str, name: str, **kw: Any) -> int:
        response = await client.get(path, **kw)
        finished.append(name)
        return response.status_code

    async def burst(base: str) -> tuple[list[int], int]:
        limits = httpx.Limits(max_connections=201)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            waiting = [
                asyncio.ensure_future(call(client, "/whoami", "token", headers=bearer(token)))
                for _ in range(200)
            ]
            for _ in range(500):  # Until the one (slow) fetch has reached the issuer.
                if server.total_hits():
                    break
                await asyncio.sleep(0.01)
            anonymous = await call(client, "/whoami", "anonymous")
            return list(await asyncio.gather(*waiting)), anonymous

    with serve(issuer, lifespan="off", jwks_url=f"{server.url}/.well-known/jwks.json") as base:
        statuses, anonymous = asyncio.run(burst(base))
    assert statuses == [200] * 200
    assert anonymous == 200
    # The token-less request was answered while the 200 still waited for the keys.
    assert finished[0] == "anonymous"
    assert server.hits == {"/.well-known/jwks.json": 1}
