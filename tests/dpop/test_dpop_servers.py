"""DPoP on the example apps under real servers, several workers sharing one real Redis.

A proof replayed against two server processes (uvicorn, gunicorn), or against one
server with two workers, is accepted once; while Redis is down DPoP requests get 503
with ``Retry-After`` and bearer requests are unaffected; once Redis is back, DPoP
requests pass again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import redis

from jwtgate.testing import DevKey, Issuer, dpop_headers

from redis_server import RedisServer
from servers import free_port, server_process

pytestmark = pytest.mark.integration
# Both servers check htu against this origin, never their own Host: one proof fits both.
RESOURCE = "http://127.0.0.1:9"
EXAMPLES = ["examples.app:app", "examples.fastapi_app:app", "examples.flask_app:app"]


@contextmanager
def server(target: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """A real server for *target*; its output never shows a traceback or the Redis password."""
    log: list[str] = []
    with server_process(target, env, workers, log) as base:
        yield base
    assert "Traceback" not in log[0], log[0]
    assert "secret-pw" not in log[0]


def environment(issuer: Issuer, redis_url: str) -> dict[str, str]:
    return {
        "JWTGATE_ISSUER": issuer.issuer,
        "JWTGATE_AUDIENCE": issuer.audience,
        "JWTGATE_REDIS_URL": redis_url,
        "JWTGATE_RESOURCE": RESOURCE,
    }


def fresh(issuer: Issuer, key: DevKey, token: str | None = None) -> dict[str, str]:
    token = token or issuer.mint(dpop_key=key, sub="bound")
    return dpop_headers(token, key, "GET", RESOURCE + "/me")


def status(base: str, headers: dict[str, str]) -> int:
    # A new connection each time: with several workers, any of them may answer.
    return httpx.get(base + "/me", headers=headers, timeout=10).status_code


@pytest.mark.parametrize("target", EXAMPLES)
def test_a_proof_is_accepted_once_across_two_servers(
    jwtgate_live_issuer: Issuer, redis_server: RedisServer, target: str
) -> None:
    issuer, key = jwtgate_live_issuer, DevKey.generate("ES256")
    env = environment(issuer, redis_server.url)
    with ExitStack() as stack:
        first = stack.enter_context(server(target, env))
        second = stack.enter_context(server(target, env))
        headers = fresh(issuer, key)
        assert status(first, headers) == 200
        assert status(second, headers) == 401  # The other server saw it, through Redis.
        assert status(second, fresh(issuer, key)) == 200
        # Racing: one proof sent to both servers eight times at once wins once.
        racing = fresh(issuer, key)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: status((first, second)[i % 2], racing), range(8)))
        assert sorted(results) == [200] + [401] * 7
        # One pool per worker: no connection per request.
        raw = redis.Redis(port=redis_server.port)
        connections = raw.info("stats")["total_connections_received"]
        raw.close()
        assert connections < 40, connections


@pytest.mark.parametrize("target", ["examples.app:app", "examples.flask_app:app"])
def test_a_proof_is_accepted_once_by_two_workers(
    jwtgate_live_issuer: Issuer, redis_server: RedisServer, target: str
) -> None:
    issuer, key = jwtgate_live_issuer, DevKey.generate("ES256")
    with server(target, environment(issuer, redis_server.url), workers=2) as base:
        assert status(base, fresh(issuer, key)) == 200  # Both workers are up by now or soon.
        headers = fresh(issuer, key)
        results = [status(base, headers) for _ in range(10)]
        assert sorted(results) == [200] + [401] * 9


@pytest.mark.parametrize("target", ["examples.app:app", "examples.flask_app:app"])
def test_redis_down_is_503_for_dpop_only_then_recovers(
    jwtgate_live_issuer: Issuer, redis_server: RedisServer, target: str
) -> None:
    issuer, key = jwtgate_live_issuer, DevKey.generate("ES256")
    # Nothing listens there: 503, and the warning logged names the URL without its password
    # (``server`` checks the log for "secret-pw").
    nowhere = f"redis://:secret-pw@127.0.0.1:{free_port()}/0"
    with server(target, environment(issuer, nowhere)) as base:
        assert status(base, fresh(issuer, key)) == 503
    with server(target, environment(issuer, redis_server.url)) as base:
        bearer = {"Authorization": f"Bearer {issuer.mint(sub='plain')}"}
        assert status(base, fresh(issuer, key)) == 200
        redis_server.stop()
        down = httpx.get(base + "/me", headers=fresh(issuer, key), timeout=10)
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) >= 1
        assert down.json()["error"] == "temporarily_unavailable"
        assert status(base, bearer) == 200  # Bearer requests need no shared state.
        redis_server.start()
        deadline = time.monotonic() + 20
        while (code := status(base, fresh(issuer, key))) != 200:
            assert code == 503
            assert time.monotonic() < deadline, "DPoP did not recover after Redis came back"
            time.sleep(0.2)
        assert status(base, bearer) == 200
