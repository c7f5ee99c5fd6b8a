"""The fetch deadline and the bounded waits, against a real misbehaving server on 127.0.0.1.

Each fault would hold a fetch for tens of seconds (a drip restarts httpx's read timeout
with every byte); the deadline here is 0.5 s. Elapsed times are compared with bounds
many times apart (the deadline plus seconds of slack, against the fault's length),
so that a loaded machine cannot make them flaky.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest

from jwtgate import KeySetUnavailable, RemoteKeySet, Settings
from jwtgate._keys.deadline import Deadline, FetchError, Limits, asend, send
from jwtgate.testing import DevKey

from faults import FaultServer, fault_server

pytestmark = pytest.mark.anyio

DEADLINE = 0.5
SLACK = 2.5  # Far below every fault's own length (>= 13 s).
# The read timeout outlasts the deadline: what stops a hang here is the deadline alone.
LIMITS = Limits(connect=0.4, read=5.0, total=DEADLINE, max_bytes=65536)

# Each fault lasts at least 13 s at interval 0.2 s (header drip: ~70 bytes; body drip:
# ~500 bytes; trickle: 64 chunks of 1 KiB; hang and stall: until the client gives up).
FAULTS = [
    pytest.param("header_drip", id="header-drip"),
    pytest.param("body_drip", id="body-drip"),
    pytest.param("stall", id="stall-after-headers"),
    pytest.param("hang", id="hang"),
    pytest.param("trickle", id="trickle-under-the-size-cap"),
]


@pytest.fixture
def server(rsa_key: DevKey) -> Iterator[FaultServer]:
    with fault_server(interval=0.2, trickle_size=65000) as server:
        jwks = {"keys": [rsa_key.public_jwk], "padding": "x" * 400}
        server.documents["/jwks"] = lambda: jwks
        yield server


def fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jwtgate-jwks-fetch"]


def no_fetch_thread_left() -> bool:
    until = time.monotonic() + SLACK
    while fetch_threads() and time.monotonic() < until:
        time.sleep(0.02)
    return fetch_threads() == []


@pytest.mark.parametrize("mode", FAULTS)
def test_sync_send_keeps_the_deadline(server: FaultServer, mode: str) -> None:
    server.mode = mode
    started = time.monotonic()
    with httpx.Client() as client, pytest.raises(FetchError, match="timed out"):
        send(client, client.build_request("GET", server.url + "/jwks"), Deadline(LIMITS))
    assert time.monotonic() - started < DEADLINE + SLACK


@pytest.mark.parametrize("mode", FAULTS)
async def test_async_send_keeps_the_deadline(server: FaultServer, mode: str) -> None:
    server.mode = mode
    started = time.monotonic()
    async with httpx.AsyncClient() as client:
        request = client.build_request("GET", server.url + "/jwks")
        with pytest.raises(FetchError, match="timed out"):
            await asend(client, request, Deadline(LIMITS))
    assert time.monotonic() - started < DEADLINE + SLACK


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        pytest.param("refused", "ConnectError", id="refused"),
        pytest.param("status500", None, id="500"),
        pytest.param("ok", None, id="ok"),
    ],
)
def test_send_answers_or_names_the_failure(
    server: FaultServer, mode: str, problem: str | None
) -> None:
    server.set_mode(mode)
    with httpx.Client() as client:
        request = client.build_request("GET", server.url + "/jwks")
        if problem is None:
            response = send(client, request, Deadline(LIMITS))
            assert response.status_code == (500 if mode == "status500" else 200)
            assert response.headers["content-type"] == "application/json"
        else:
            with pytest.raises(FetchError, match=problem):
                send(client, request, Deadline(LIMITS))


def key_set(server: FaultServer, **settings: Any) -> RemoteKeySet:
    settings.setdefault("http_timeout", 5.0)
    settings.setdefault("http_connect_timeout", 0.4)
    settings.setdefault("http_total_timeout", DEADLINE)
    settings.setdefault("jwks_background_refresh", False)
    return RemoteKeySet(
        Settings(
            issuer="https://issuer.test", audience="api", jwks_url=server.url + "/jwks", **settings
        )
    )


@pytest.mark.parametrize("face", ["sync", "async"])
@pytest.mark.parametrize("mode", FAULTS)
def test_a_key_fetch_keeps_the_deadline_and_leaves_no_thread(
    server: FaultServer, mode: str, face: str
) -> None:
    server.mode = mode
    keys = key_set(server)
    started = time.monotonic()
    with pytest.raises(KeySetUnavailable):
        keys.refresh_sync() if face == "sync" else anyio.run(keys.refresh)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert "timed out (deadline of 0.5 s)" in (keys.last_error or "")
    # The watchdog shut the socket down: the fetch thread is gone, not left dripping.
    assert no_fetch_thread_left()
    keys.close()
    anyio.run(keys.aclose)


def test_one_deadline_spans_discovery_and_the_jwks(rsa_key: DevKey) -> None:
    # Each answer takes 0.3 s, within the 0.4 s read timeout; both take 0.6 s > 0.5 s.
    with fault_server(interval=0.3) as server:
        server.documents["/.well-known/openid-configuration"] = lambda: {
            "issuer": server.url,
            "jwks_uri": server.url + "/jwks",
        }
        server.documents["/jwks"] = lambda: {"keys": [rsa_key.public_jwk]}
        server.mode = "header_drip"
        server.interval = 0.3 / 80  # ~80 header bytes: about 0.3 s per answer.
        settings = Settings(
            issuer=server.url, audience="api", http_timeout=0.4, http_total_timeout=0.45
        )
        keys = RemoteKeySet(settings)
        with pytest.raises(KeySetUnavailable):
            keys.refresh_sync()
        assert "timed out (deadline of 0.45 s)" in (keys.last_error or "")
        keys.close()
        server.mode = "ok"  # The same settings against a prompt server: keys.
        prompt = RemoteKeySet(settings)
        assert prompt.refresh_sync().kids == ("rsa-1",)
        prompt.close()


def test_sync_waiters_are_bounded_and_share_one_fetch(server: FaultServer) -> None:
    # Cold cache, the issuer hangs: every thread gets 503 after the wait, not the deadline.
    server.mode = "hang"
    keys = key_set(server, http_total_timeout=3.0, http_timeout=3.0, jwks_fetch_wait=0.2)

    def ask(_: int) -> float:
        started = time.monotonic()
        with pytest.raises(KeySetUnavailable):
            keys.get_key_sync("rsa-1", "RS256")
        return time.monotonic() - started

    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(ask, range(16)))
    assert max(waits) < 0.2 + SLACK < 3.0 + 1
    assert server.count("/jwks") == 1
    assert len(fetch_threads()) <= 1
    with pytest.raises(KeySetUnavailable):
        keys.refresh_sync()  # Waits for the fetch in progress to end (its deadline).
    keys.close()


def test_a_known_key_never_waits_for_a_fetch(server: FaultServer, rsa_key: DevKey) -> None:
    clock = [time.time()]
    settings = Settings(
        issuer="https://issuer.test",
        audience="api",
        jwks_url=server.url + "/jwks",
        jwks_cache_ttl=60,
        http_total_timeout=8.0,
        http_timeout=8.0,
        jwks_fetch_wait=8.0,
    )
    keys = RemoteKeySet(settings, clock=lambda: clock[0])
    good = keys.get_key_sync("rsa-1", "RS256")
    server.mode = "hang"
    clock[0] += 61  # Expired: the refresher starts a fetch that hangs for 8 s.
    keys.start_refresh_thread()
    until = time.monotonic() + SLACK
    while not fetch_threads() and time.monotonic() < until:
        time.sleep(0.01)
    assert fetch_threads()  # A fetch is in progress...
    started = time.monotonic()
    for _ in range(50):
        assert keys.get_key_sync("rsa-1", "RS256") is good  # ...and the known key is served.
    assert time.monotonic() - started < SLACK < 8.0
    assert keys.state().stale
    server.stop()  # Ends the hanging answer, and with it the refresher's fetch.
    keys.close()


async def test_async_waiters_are_bounded(server: FaultServer) -> None:
    server.mode = "hang"
    keys = key_set(server, http_total_timeout=3.0, http_timeout=3.0, jwks_fetch_wait=0.2)
    waits: list[float] = []

    async def ask() -> None:
        started = time.monotonic()
        with pytest.raises(KeySetUnavailable):
            await keys.get_key("rsa-1", "RS256")
        waits.append(time.monotonic() - started)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(ask)  # The first asker fetches: it pays the deadline (3 s).
        await anyio.sleep(0.05)
        for _ in range(10):
            tasks.start_soon(ask)
    assert len(waits) == 11
    assert sorted(waits)[-2] < 0.2 + SLACK < 3.0 + 1  # The others: at most the wait.
    assert server.count("/jwks") == 1
    await keys.aclose()


def test_the_wait_is_capped_at_the_deadline(server: FaultServer) -> None:
    # A wait longer than the deadline would only wait for a fetch that is already over.
    server.mode = "hang"
    keys = key_set(server, jwks_fetch_wait=30.0)
    started = time.monotonic()
    with pytest.raises(KeySetUnavailable):
        keys.get_key_sync("rsa-1", "RS256")
    assert time.monotonic() - started < DEADLINE + SLACK < 30
    keys.close()


class BrokenTransport(httpx.BaseTransport):
    """A transport with a bug: raises what no httpx transport should."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("bug")


def test_a_bug_in_the_fetch_releases_the_waiters(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(issuer="https://issuer.test", audience="api", jwks_url="https://k.test/j")
    keys = RemoteKeySet(settings, sync_transport=BrokenTransport())
    with pytest.raises(KeySetUnavailable):
        keys.get_key_sync("rsa-1", "RS256")
    assert keys.last_error == "unexpected RuntimeError"
    assert "jwtgate key fetch" in caplog.text
    assert no_fetch_thread_left()
    keys.close()


class SlowStream(httpx.SyncByteStream):
    """A body of 50 chunks, one per 0.1 s (5 s), from a transport without a socket."""

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(50):
            time.sleep(0.1)
            yield b" "


def test_without_a_socket_the_body_loop_keeps_the_deadline() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=SlowStream()))
    started = time.monotonic()
    with httpx.Client(transport=transport) as client, pytest.raises(FetchError, match="deadline"):
        send(client, client.build_request("GET", "https://k.test/j"), Deadline(LIMITS))
    assert time.monotonic() - started < DEADLINE + SLACK < 5
