"""Refresh ahead, negative cache and the event hook, on an injected clock, jitter and sleep."""

import threading
from typing import Any

import anyio
import httpx
import pytest

from jwtgate import (
    Authenticator,
    Event,
    KeySetUnavailable,
    RemoteKeySet,
    Settings,
    UnknownKey,
)
from jwtgate.testing import DevKey, Issuer

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Stop(Exception):
    pass


class Upstream:
    """An issuer behind a MockTransport that can fail, counting JWKS fetches."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.fetches: list[float] = []
        self.failing = False
        self.clock: Clock | None = None
        self.headers: dict[str, str] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches.append(self.clock.now if self.clock else 0.0)
        if self.failing:
            return httpx.Response(503)
        return httpx.Response(200, json=self.issuer.jwks(), headers=self.headers)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def upstream(issuer: Issuer, clock: Clock) -> Upstream:
    up = Upstream(issuer)
    up.clock = clock
    return up


def make(upstream: Upstream, clock: Clock, *, jitter: float = 0.0, **kw: Any) -> RemoteKeySet:
    events: list[Event] = kw.pop("events", [])
    return RemoteKeySet(
        Settings(issuer="https://issuer.test", audience="api", jwks_url=JWKS, **kw),
        transport=httpx.MockTransport(upstream.handle),
        sync_transport=httpx.MockTransport(upstream.handle),
        clock=clock,
        random=lambda: jitter,
        on_event=events.append,
        sleep=_unused_sleep,
    )


JWKS = "https://issuer.test/jwks"


async def _unused_sleep(delay: float) -> None:  # pragma: no cover
    raise AssertionError("keep_fresh was given its own sleep")


async def run_for(keys: RemoteKeySet, clock: Clock, seconds: float) -> list[float]:
    """Run ``keep_fresh`` with a sleep that advances *clock*, for *seconds* of fake time."""
    end = clock.now + seconds
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        if clock.now + delay > end:
            raise Stop
        clock.now += delay
        await anyio.lowlevel.checkpoint()

    keys._sleep = sleep
    with pytest.raises(Stop):
        await keys.keep_fresh()
    assert not keys.state().refreshing
    return sleeps


async def test_refresh_ahead_with_jitter(upstream: Upstream, clock: Clock) -> None:
    start = clock.now
    keys = make(upstream, clock, jitter=0.5)
    await run_for(keys, clock, 1000)
    # Fetched at once, then every 300 * (0.75 + 0.15 * 0.5) = 247.5 s: before each expiry.
    assert [t - start for t in upstream.fetches] == [0.0, 247.5, 495.0, 742.5, 990.0]
    state = keys.state()
    assert state.next_refresh == start + 990.0 + 247.5
    assert state.expires_at == start + 990.0 + 300
    assert state.fetch_count == 5


async def test_jitter_spreads_workers(upstream: Upstream, clock: Clock) -> None:
    early, late = make(upstream, clock, jitter=0.0), make(upstream, clock, jitter=0.99)
    await early.refresh()
    await late.refresh()
    assert early.state().next_refresh != late.state().next_refresh


async def test_server_lifetime_drives_the_schedule(upstream: Upstream, clock: Clock) -> None:
    upstream.headers = {"Cache-Control": "max-age=1000"}
    start = clock.now
    keys = make(upstream, clock)
    await run_for(keys, clock, 1600)
    assert [t - start for t in upstream.fetches] == [0.0, 750.0, 1500.0]


async def test_failures_retry_with_backoff_and_stale_keys_serve(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock, jwks_max_stale=600)
    start = clock.now
    await keys.refresh()
    good = await keys.get_key("rsa-1", "RS256")
    upstream.failing = True
    clock.now += 290  # Expired (300 s) in 10 s.
    await run_for(keys, clock, 400)
    keys._background = 1  # As if the refresher still ran: requests never fetch for known keys.
    offsets = [round(t - start) for t in upstream.fetches]
    assert offsets == [0, 290, 295, 305, 325, 365, 425, 485, 545, 605, 665]  # 5, 10, 20, 40, 60...
    assert keys.state().stale
    assert keys.ready
    before = len(upstream.fetches)
    assert await keys.get_key("rsa-1", "RS256") is good  # Stale, within jwks_max_stale.
    assert len(upstream.fetches) == before  # ... and no request waited on a fetch.
    upstream.failing = False
    clock.now += 60
    await keys.refresh()
    assert not keys.state().stale
    assert keys.state().last_error is None


async def test_stale_set_runs_out_after_max_stale(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock, jwks_max_stale=100)
    await keys.refresh()
    upstream.failing = True
    keys._background = 1
    clock.now += 399
    await keys.get_key("rsa-1", "RS256")
    clock.now += 2
    with pytest.raises(KeySetUnavailable):
        await keys.get_key("rsa-1", "RS256")
    assert not keys.ready


async def test_known_keys_never_wait_with_a_refresher(upstream: Upstream, clock: Clock) -> None:
    events: list[Event] = []
    keys = make(upstream, clock, events=events)
    await keys.refresh()
    keys._background = 1
    clock.now += 301
    await keys.get_key("rsa-1", "RS256")
    assert len(upstream.fetches) == 1
    assert [e.name for e in events] == ["fetch", "stale"]
    keys._background = 0  # Without a refresher, the first request after expiry refreshes.
    await keys.get_key("rsa-1", "RS256")
    assert len(upstream.fetches) == 2


async def test_random_unknown_kids_cost_one_fetch_per_cooldown(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock, jwks_refetch_cooldown=5)
    await keys.refresh()
    clock.now += 5
    for i in range(10_000):
        with pytest.raises(UnknownKey):
            await keys.get_key(f"random-{i}", "RS256")
    assert len(upstream.fetches) == 2  # One refetch, then the cooldown holds.
    assert len(keys._negative) == 1


async def test_one_unknown_kid_is_remembered(upstream: Upstream, clock: Clock) -> None:
    events: list[Event] = []
    keys = make(upstream, clock, jwks_refetch_cooldown=1, jwks_negative_ttl=60, events=events)
    await keys.refresh()
    for _ in range(30):  # 30 s of a replayed token with the same bad kid.
        clock.now += 1
        with pytest.raises(UnknownKey):
            await keys.get_key("bad", "RS256")
    assert len(upstream.fetches) == 2  # The first miss fetched; then the kid was remembered.
    assert sum(e.name == "negative_hit" for e in events) == 29
    clock.now += 60
    with pytest.raises(UnknownKey):
        await keys.get_key("bad", "RS256")
    assert len(upstream.fetches) == 3


async def test_unknown_kids_during_an_outage(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock, jwks_refetch_cooldown=5)
    await keys.refresh()
    upstream.failing = True
    clock.now += 5
    for i in range(1000):
        with pytest.raises(KeySetUnavailable):  # The key may be new: 503, not 401.
            await keys.get_key(f"random-{i}", "RS256")
    assert len(upstream.fetches) == 2  # The failed fetch counts against the cooldown.
    assert (await keys.get_key("rsa-1", "RS256")).kid == "rsa-1"  # Known keys still verify.


async def test_new_kid_published_after_a_miss_is_accepted_soon(
    upstream: Upstream, clock: Clock
) -> None:
    keys = make(upstream, clock)
    await keys.refresh()
    new = DevKey.generate("ES256", kid="late")
    clock.now += 5
    with pytest.raises(UnknownKey):
        await keys.get_key("late", "ES256")  # Not published yet: fetched, remembered absent.
    upstream.issuer.keys.append(new)
    clock.now += 5  # Negative TTL and cooldown (both 5 s by default) have passed.
    assert (await keys.get_key("late", "ES256")).kid == "late"


async def test_concurrent_unknown_kids_share_one_fetch(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock)
    await keys.refresh()
    clock.now += 5

    async def one(i: int) -> None:
        with pytest.raises(UnknownKey):
            await keys.get_key(f"k{i % 7}", "RS256")

    async with anyio.create_task_group() as tasks:
        for i in range(200):
            tasks.start_soon(one, i)
    assert len(upstream.fetches) == 2


async def test_a_failing_hook_never_breaks_a_request(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(event: Event) -> None:
        raise RuntimeError("metrics backend down")

    auth = Authenticator(issuer.settings(), transport=issuer.transport(), on_event=hook)
    assert (await auth.authenticate(issuer.mint(sub="a"))).subject == "a"
    with pytest.raises(UnknownKey):
        await auth.authenticate(issuer.mint(headers={"kid": "nope"}))
    assert "on_event hook failed" in caplog.text
    await auth.aclose()


async def test_events_name_what_happened(issuer: Issuer) -> None:
    events: list[Event] = []
    auth = Authenticator(issuer.settings(), transport=issuer.transport(), on_event=events.append)
    await auth.authenticate(issuer.mint())
    await auth.authenticate(issuer.mint())
    with pytest.raises(Exception):
        await auth.authenticate(issuer.mint(expires_in=-100))
    with pytest.raises(Exception):
        await auth.authenticate("garbage")
    names = [(e.name, e.reason) for e in events]
    assert names == [
        ("miss", None),
        ("fetch", None),
        ("hit", None),
        ("hit", None),
        ("rejected", "expired"),
        ("rejected", "malformed"),
    ]
    fetch = events[1]
    assert fetch.kids == ("rsa-1",)
    assert fetch.lifetime == 300
    assert fetch.url
    assert all(e.issuer == issuer.issuer for e in events)
    await auth.aclose()


async def test_unavailable_event(issuer: Issuer) -> None:
    events: list[Event] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    auth = Authenticator(
        issuer.settings(), transport=httpx.MockTransport(refuse), on_event=events.append
    )
    with pytest.raises(KeySetUnavailable):
        await auth.authenticate(issuer.mint())
    assert [e.name for e in events][-2:] == ["fetch_failed", "unavailable"]
    assert "connection refused" in (events[-2].reason or "")
    await auth.aclose()


def test_sync_refresh_thread_starts_on_first_use_and_stops_on_close(issuer: Issuer) -> None:
    fetched = threading.Event()
    transport = issuer.transport()

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.set()
        return transport.handle_request(request)

    auth = Authenticator(issuer.settings(), sync_transport=httpx.MockTransport(handler))
    key_set = auth.key_set
    assert isinstance(key_set, RemoteKeySet)
    assert not key_set.state().refreshing
    auth.prefetch_sync()  # Loads keys; starts no thread (it may run in a pre-fork master).
    assert not key_set.state().refreshing
    assert auth.authenticate_sync(issuer.mint(sub="x")).subject == "x"
    assert key_set.state().refreshing
    thread = key_set._thread
    assert thread is not None
    assert thread.daemon
    assert thread.is_alive()
    auth.close()
    assert not thread.is_alive()
    assert not key_set.state().refreshing
    assert issuer.requests.count("/.well-known/jwks.json") == 1


def test_sync_refresh_thread_can_be_turned_off(issuer: Issuer) -> None:
    auth = Authenticator(
        issuer.settings(jwks_background_refresh=False), sync_transport=issuer.transport()
    )
    auth.authenticate_sync(issuer.mint())
    assert not auth.state()[0].refreshing
    auth.close()


def test_negative_cache_is_bounded(upstream: Upstream, clock: Clock) -> None:
    keys = make(upstream, clock, jwks_negative_ttl=60)
    for i in range(10_000):
        keys._remember_absent(f"old-{i}", clock.now)
    clock.now += 61  # All expired: purged, not cleared wholesale.
    keys._remember_absent("new", clock.now)
    assert list(keys._negative) == ["new"]
    for i in range(10_000):
        keys._remember_absent(f"live-{i}", clock.now)
    assert len(keys._negative) <= 10_000
