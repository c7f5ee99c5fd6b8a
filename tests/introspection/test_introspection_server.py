"""Introspection against the test kit's authorization server on a real loopback socket.

Counts come from the server's side (``issuer.opaque.calls``): one call for 50
concurrent first requests, none while cached, one again after expiry; faults
(down, slow, 500, garbage, wrong credentials) are 503 with Retry-After, never 401.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
from opaque_apps import Clock, asgi_client, wsgi_client

from jwtgate import Authenticator, IntrospectionUnavailable
from jwtgate.testing import Issuer

from helpers import bearer
from servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_fifty_concurrent_first_requests_share_one_call(live: Issuer) -> None:
    token = live.mint_opaque(sub="alice", scopes=["items:read"])
    async with asgi_client(live.settings(introspection=True)) as client:

        async def get(results: list[httpx.Response]) -> None:
            results.append(await client.get("/items", headers=bearer(token)))

        results: list[httpx.Response] = []
        async with anyio.create_task_group() as tasks:
            for _ in range(50):
                tasks.start_soon(get, results)
        assert [r.status_code for r in results] == [200] * 50
        assert live.opaque.calls == 1
        for _ in range(20):
            me = await client.get("/whoami", headers=bearer(token))
            assert me.json() == {"authenticated": True, "sub": "alice", "scopes": ["items:read"]}
        assert live.opaque.calls == 1  # None while cached.


def test_fifty_concurrent_threads_share_one_call(live: Issuer) -> None:
    token = live.mint_opaque(sub="alice", scopes=["items:read"])
    authenticator = Authenticator(live.settings(introspection=True))
    with ThreadPoolExecutor(50) as pool:
        subjects = list(
            pool.map(lambda _: authenticator.authenticate_sync(token).subject, range(50))
        )
    assert subjects == ["alice"] * 50
    assert live.opaque.calls == 1
    authenticator.close()


async def test_asked_again_after_the_max_age_and_revocation_then_shows(live: Issuer) -> None:
    clock = Clock()
    token = live.mint_opaque(scopes=["items:read"])
    settings = live.settings(introspection=True, introspection_cache_ttl=30)
    async with asgi_client(settings, clock) as client:
        assert (await client.get("/items", headers=bearer(token))).status_code == 200
        live.revoke(token)
        clock.advance(29)
        # Revoked mid-cache: still accepted until the cache's max age (the documented trade-off).
        assert (await client.get("/items", headers=bearer(token))).status_code == 200
        assert live.opaque.calls == 1
        clock.advance(2)
        response = await client.get("/items", headers=bearer(token))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert live.opaque.calls == 2


async def test_an_answer_is_never_kept_past_the_tokens_exp(live: Issuer) -> None:
    clock = Clock()
    token = live.mint_opaque(expires_in=5)
    async with asgi_client(live.settings(introspection=True), clock) as client:
        assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
        clock.advance(4)
        assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
        assert live.opaque.calls == 1
        clock.advance(2)  # Past exp (the default max age, 60 s, would still allow it).
        await client.get("/whoami", headers=bearer(token))
        assert live.opaque.calls == 2


async def test_max_age_zero_asks_every_time(live: Issuer) -> None:
    token = live.mint_opaque()
    settings = live.settings(introspection=True, introspection_cache_ttl=0)
    async with asgi_client(settings) as client:
        for _ in range(3):
            assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
    assert live.opaque.calls == 3


async def test_negative_answers_are_kept_briefly_and_apart(live: Issuer) -> None:
    clock = Clock()
    settings = live.settings(introspection=True, introspection_negative_ttl=5)
    async with asgi_client(settings, clock) as client:
        for _ in range(3):
            response = await client.get("/whoami", headers=bearer("never-minted-token"))
            assert response.status_code == 401
        assert live.opaque.calls == 1
        clock.advance(6)
        assert (
            await client.get("/whoami", headers=bearer("never-minted-token"))
        ).status_code == 401
        assert live.opaque.calls == 2


FAULTS = [
    pytest.param({"fault": "error"}, {}, id="500"),
    pytest.param({"fault": "garbage"}, {}, id="garbage"),
    pytest.param({"fault": "inactive-shape"}, {}, id="no-active-member"),
    pytest.param({"fault": "slow", "delay": 1.5}, {"http_total_timeout": 0.3}, id="slow"),
    pytest.param({}, {"introspection_client_secret": "wrong"}, id="wrong-credentials"),
]


def fault_settings(live: Issuer, settings: dict[str, Any]) -> Any:
    return live.settings(introspection=True, **settings)


@pytest.mark.parametrize(("fault", "settings"), FAULTS)
async def test_faults_are_503_with_retry_after_never_401(
    live: Issuer, fault: dict[str, Any], settings: dict[str, Any]
) -> None:
    token = live.mint_opaque(scopes=["items:read"])
    for name, value in fault.items():
        setattr(live.opaque, name, value)
    async with asgi_client(fault_settings(live, settings)) as client:
        response = await client.get("/items", headers=bearer(token))
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "temporarily_unavailable"
        assert token not in response.text
        live.opaque.fault = None
        # A failure is not cached: once the server answers, the token passes (or, with
        # wrong credentials, stays 503: a configuration error, not a bad token).
        again = await client.get("/items", headers=bearer(token))
        assert again.status_code == (503 if "introspection_client_secret" in settings else 200)


@pytest.mark.parametrize(("fault", "settings"), FAULTS)
def test_faults_are_503_on_the_wsgi_face_too(
    live: Issuer, fault: dict[str, Any], settings: dict[str, Any]
) -> None:
    token = live.mint_opaque(scopes=["items:read"])
    for name, value in fault.items():
        setattr(live.opaque, name, value)
    with wsgi_client(fault_settings(live, settings)) as client:
        response = client.get("/items", headers=bearer(token))
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "temporarily_unavailable"


async def test_the_endpoint_down_is_503(live: Issuer) -> None:
    token = live.mint_opaque()
    dead = f"http://127.0.0.1:{free_port()}/introspect"
    async with asgi_client(live.settings(introspection=True, introspection_url=dead)) as client:
        response = await client.get("/whoami", headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_wrong_credentials_are_logged_as_a_configuration_error(
    live: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    token = live.mint_opaque()
    authenticator = Authenticator(
        live.settings(introspection=True, introspection_client_secret="wrong")
    )
    with caplog.at_level(logging.ERROR, logger="jwtgate"), pytest.raises(IntrospectionUnavailable):
        authenticator.authenticate_sync(token)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Configuration error" in record.getMessage()
    assert "JWTGATE_INTROSPECTION_CLIENT_SECRET" in record.getMessage()
    assert token not in caplog.text
    assert "wrong" not in caplog.text
    authenticator.close()


async def test_the_endpoint_is_discovered_from_the_issuers_metadata(live: Issuer) -> None:
    settings = live.settings(
        introspection_client_id=live.opaque.client_id,
        introspection_client_secret=live.opaque.client_secret,
    )
    token = live.mint_opaque(sub="found")
    async with asgi_client(settings) as client:
        me = await client.get("/whoami", headers=bearer(token))
    assert me.json()["sub"] == "found"
    assert "/.well-known/openid-configuration" in live.requests


async def test_jwts_keep_their_local_path_and_never_reach_the_endpoint(live: Issuer) -> None:
    async with asgi_client(live.settings(introspection=True)) as client:
        assert (await client.get("/whoami", headers=bearer(live.mint()))).status_code == 200
        forged = Issuer(live.issuer, audience=live.audience).mint()
        assert (await client.get("/whoami", headers=bearer(forged))).status_code == 401
    assert live.opaque.calls == 0


async def test_introspect_jwts_asks_for_every_token_and_sees_revocation(live: Issuer) -> None:
    token = live.mint_opaque(sub="exact")
    settings = live.settings(introspection=True, introspect_jwts=True, introspection_cache_ttl=0)
    async with asgi_client(settings) as client:
        assert (await client.get("/whoami", headers=bearer(token))).json()["sub"] == "exact"
        live.revoke(token)
        assert (await client.get("/whoami", headers=bearer(token))).status_code == 401
        # A JWT the endpoint does not know is inactive: the server's word is final.
        assert (await client.get("/whoami", headers=bearer(live.mint()))).status_code == 401
    assert live.opaque.calls == 3


async def test_without_introspection_an_opaque_token_stays_401(live: Issuer) -> None:
    async with asgi_client(live.settings()) as client:
        response = await client.get("/whoami", headers=bearer(live.mint_opaque()))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert live.opaque.calls == 0
