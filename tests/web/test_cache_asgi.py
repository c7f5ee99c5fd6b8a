"""The middleware answers the same bytes with the token cache on as with it off.

The middleware looks the cache up on the raw ``Authorization`` bytes before parsing
the header; every header shape the attack suite sends is replayed here with a valid
token that is already cached (sent twice to be admitted, a third time to confirm a
hit), against a middleware with ``token_cache_size=0``: same status, body and headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jwtgate import Event, JWTGateMiddleware
from jwtgate.testing import Issuer

from header_attacks import HEADER_ATTACKS
from helpers import CacheHits, protected_app, ws_call

pytestmark = pytest.mark.anyio
Headers = list[tuple[bytes, bytes]]
START = 1_700_000_000.0
_ANSWER_HEADERS = (b"www-authenticate", b"content-type", b"retry-after", b"cache-control")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def http_call(app: Any, headers: Headers, path: str = "/whoami") -> tuple[Any, ...]:
    """One raw ASGI request (any header bytes at all); status, answer headers, body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "server": ("t", 80), "client": ("c", 1),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    answer: dict[bytes, bytes] = {}
    for k, v in start["headers"]:  # The first of each: the request scheme's challenge.
        if k in _ANSWER_HEADERS:
            answer.setdefault(k, v)
    return start["status"], answer, b"".join(m.get("body", b"") for m in sent[1:])


class Pair:
    """The same app behind a middleware with the token cache (size 8) and one without."""

    def __init__(self, issuer: Issuer, *, on_event: bool = False, **overrides: Any) -> None:
        self.issuer = issuer
        self.on_event = on_event
        self.clock = Clock()
        self.failing = False
        self.events: dict[str, list[tuple[str, str | None]]] = {"cached": [], "full": []}
        self.cached = self._app(8, "cached", overrides)
        self.full = self._app(0, "full", overrides)
        cache = self.cached.authenticator.token_cache
        assert cache is not None
        assert self.full.authenticator.token_cache is None
        self.cache = cache
        self._hits = CacheHits(cache)

    @property
    def hits(self) -> int:
        """Entries the cached middleware's cache has found so far."""
        return self._hits.count

    def _app(self, size: int, name: str, overrides: dict[str, Any]) -> JWTGateMiddleware:
        inner = self.issuer.transport()

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(503) if self.failing else inner.handle_request(request)

        events = self.events[name]

        def hook(event: Event) -> None:
            events.append((event.name, event.reason))

        settings = self.issuer.settings(
            jwks_background_refresh=False, token_cache_size=size, **overrides
        )
        return JWTGateMiddleware(
            protected_app(),
            settings,
            transport=httpx.MockTransport(handler),
            clock=self.clock,
            on_event=hook if self.on_event else None,
        )

    def token(self, **mint: Any) -> str:
        mint.setdefault("scopes", ["items:read"])
        return self.issuer.mint(now=self.clock.now, **mint)

    async def warm(self, token: str) -> None:
        """Send *token* to both until the cached side answers it from its cache."""
        header = [(b"authorization", b"Bearer " + token.encode())]
        for _ in range(2):
            assert (await http_call(self.full, header))[0] == 200
            assert (await http_call(self.cached, header))[0] == 200
        hits = self.hits
        assert (await http_call(self.cached, header))[0] == 200
        assert self.hits == hits + 1, "the token should now be answered from the cache"

    async def same(self, headers: Headers, path: str = "/whoami") -> tuple[Any, ...]:
        cached = await http_call(self.cached, headers, path)
        full = await http_call(self.full, headers, path)
        assert cached == full
        return cached


@pytest.fixture
def pair(issuer: Issuer) -> Pair:
    return Pair(issuer)


def _rows() -> list[Any]:
    """The attack suite's header rows, without their expected answers: compared, not assumed."""
    return [pytest.param(row.values[0], id=row.id) for row in HEADER_ATTACKS]


def _auth(*values: bytes) -> Callable[[bytes], Headers]:
    return lambda token: [(b"authorization", v.replace(b"{t}", token)) for v in values]


EXTRA_ROWS = [
    pytest.param(_auth(b"Bearer {t}"), "user", id="cached-token"),
    pytest.param(_auth(b"Bearer {t}junk"), 401, id="cached-token-then-junk"),
    pytest.param(_auth(b"Bearer {t}A"), 401, id="cached-token-then-one-char"),
    pytest.param(_auth(b"Bearer {t}.x"), 401, id="cached-token-then-segment"),
    pytest.param(_auth(b"Bearer {t}\x00"), 401, id="cached-token-then-nul"),
    pytest.param(_auth(b"Bearer {t} "), "user", id="cached-token-trailing-space"),
    pytest.param(_auth(b"Bearer {t}\t"), "user", id="cached-token-trailing-tab"),
    pytest.param(_auth(b"Bearer {t}\r\n"), "user", id="cached-token-trailing-crlf"),
    pytest.param(_auth(b"Bearer {t} x"), 400, id="cached-token-space-junk"),
    pytest.param(_auth(b"Bearer  {t}"), "user", id="double-space-cached-token"),
    pytest.param(_auth(b" Bearer {t}"), "user", id="leading-space-cached-token"),
    pytest.param(_auth(b"bearer {t}"), "user", id="lowercase-scheme-cached-token"),
    pytest.param(_auth(b"BEARER {t}"), "user", id="uppercase-scheme-cached-token"),
    pytest.param(_auth(b"Bearer\t{t}"), "anonymous", id="tab-after-scheme-cached-token"),
    pytest.param(_auth(b"Bearer {t}", b"Bearer {t}"), 400, id="two-headers-cached-token"),
    pytest.param(_auth(b"Bearer {t}", b"Basic eDp5"), 400, id="cached-token-then-basic"),
    pytest.param(
        lambda t: [(b"Authorization", b"Bearer " + t)], "anonymous", id="header-name-not-lowercase"
    ),
    pytest.param(lambda t: [(b"authorization", b"Bearer " + t[:-1])], 401, id="cached-token-cut"),
    pytest.param(
        lambda t: [
            (b"authorization", b"Bearer " + t[:-2] + (b"A" if t[-2:-1] != b"A" else b"B") + t[-1:])
        ],
        401,
        id="cached-token-signature-changed",
    ),
    pytest.param(
        lambda t: [(b"authorization", b"Bearer " + t.replace(b".", b"..", 1))],
        401,
        id="cached-token-empty-segment",
    ),
]


@pytest.mark.parametrize("path", ["/whoami", "/items"])
@pytest.mark.parametrize("headers", _rows())
async def test_attack_rows_answer_the_same_with_the_token_cached(
    pair: Pair, headers: Callable[[bytes], Headers], path: str
) -> None:
    token = pair.token()
    await pair.warm(token)
    await pair.same(headers(token.encode()), path)


@pytest.mark.parametrize("path", ["/whoami", "/items"])
@pytest.mark.parametrize(("headers", "expect"), EXTRA_ROWS)
async def test_header_shapes_around_a_cached_token(
    pair: Pair, headers: Callable[[bytes], Headers], expect: int | str, path: str
) -> None:
    token = pair.token(sub="alice")
    await pair.warm(token)
    status, _, body = answer = await pair.same(headers(token.encode()), path)
    if expect == "user":
        assert status == 200
        assert path == "/items" or b'"sub":"alice"' in body
    elif expect == "anonymous":  # No bearer token found: anonymous, refused by /items.
        assert status == (200 if path == "/whoami" else 401)
        assert path == "/items" or b'"authenticated":false' in body
    else:
        assert status == expect
    # A second time, when an answer may have been cached meanwhile: still the same.
    assert await pair.same(headers(token.encode()), path) == answer


async def test_cached_token_without_the_scope_is_refused_like_the_full_path(pair: Pair) -> None:
    token = pair.token(scopes=["other"])
    await pair.warm(token)
    status, headers, _body = await pair.same(_auth(b"Bearer {t}")(token.encode()), "/items")
    assert status == 403
    assert b"insufficient_scope" in headers[b"www-authenticate"]


@pytest.mark.parametrize(
    ("path", "status", "authenticated"),
    [
        pytest.param("/public", 404, False, id="excluded"),
        pytest.param("/open/x", 404, False, id="excluded-prefix"),
        pytest.param("/publicx", 404, True, id="exact-exclusion-is-exact"),
        pytest.param("/whoami", 200, True, id="not-excluded"),
    ],
)
async def test_cached_token_on_excluded_and_other_paths(
    issuer: Issuer, path: str, status: int, authenticated: bool
) -> None:
    pair = Pair(issuer, exclude_paths=("/public", "/open/*"))
    token = pair.token(sub="alice")
    await pair.warm(token)
    hits = pair.hits
    answer = await pair.same([(b"authorization", b"Bearer " + token.encode())], path)
    assert answer[0] == status  # Unknown routes are 404: the middleware let them through.
    assert pair.hits == hits + authenticated  # An excluded path never looks the token up.
    # On a real route, the cached token is still honoured.
    assert (await pair.same([(b"authorization", b"Bearer " + token.encode())]))[0] == 200


async def test_websocket_with_a_cached_token_is_answered_the_same(pair: Pair) -> None:
    token, bad = pair.token(sub="alice"), pair.token(sub="eve") + "x"
    await pair.warm(token)
    for extensions in (None, {"websocket.http.response": {}}):
        for t in (token, bad):
            cached = await ws_call(pair.cached, t, extensions)
            assert cached == await ws_call(pair.full, t, extensions)


async def test_cache_hit_is_refused_once_the_keys_are_stale_past_max_stale(issuer: Issuer) -> None:
    pair = Pair(issuer, jwks_cache_ttl=300.0, jwks_max_stale=600.0)
    token = pair.token(expires_in=86_400)
    await pair.warm(token)
    header = [(b"authorization", b"Bearer " + token.encode())]
    pair.failing = True
    pair.clock.now += 301  # Past the set's lifetime, the refetch fails: the stale set serves.
    assert (await pair.same(header))[0] == 200
    pair.clock.now += 600  # Past jwks_max_stale too: no usable keys, 503 like the full path.
    status, headers, _ = await pair.same(header)
    assert status == 503
    assert b"retry-after" in headers
    pair.failing = False
    pair.clock.now += 10  # The issuer is back (and the cooldown over): accepted again.
    assert (await pair.same(header))[0] == 200


async def test_cache_hit_is_refused_once_its_key_leaves_the_jwks(issuer: Issuer) -> None:
    pair = Pair(issuer, jwks_cache_ttl=300.0)
    token = pair.token()
    await pair.warm(token)
    header = [(b"authorization", b"Bearer " + token.encode())]
    issuer.rotate("RS256")
    old = issuer.keys.pop()  # The key that signed the cached token is withdrawn.
    assert old.kid == "rsa-1"
    assert (await pair.same(header))[0] == 200  # The cached set is still fresh.
    pair.clock.now += 301
    status, headers, _ = await pair.same(header)
    assert status == 401
    assert b"invalid_token" in headers[b"www-authenticate"]


async def test_cache_hit_past_exp_is_expired_like_the_full_path(pair: Pair) -> None:
    token = pair.token(expires_in=60)
    await pair.warm(token)
    header = [(b"authorization", b"Bearer " + token.encode())]
    pair.clock.now += 60 + 30 - 0.5  # exp + leeway (30 s) not reached yet.
    assert (await pair.same(header))[0] == 200
    pair.clock.now += 0.5
    status, _, body = await pair.same(header)
    assert status == 401
    assert b"expired" in body


async def test_hits_with_an_event_hook_report_the_same_events(issuer: Issuer) -> None:
    pair = Pair(issuer, on_event=True)
    token = pair.token()
    await pair.warm(token)
    header = [(b"authorization", b"Bearer " + token.encode())]
    for name in ("cached", "full"):
        pair.events[name].clear()
    hits = pair.hits
    for _ in range(3):
        await pair.same(header)
    assert pair.hits == hits + 3
    # The key source is still asked (and reports) on every hit.
    assert pair.events["cached"] == pair.events["full"] == [("hit", None)] * 3
    await pair.same(_auth(b"Bearer {t}x")(token.encode()))
    assert pair.events["cached"] == pair.events["full"]


async def test_public_str_path_and_header_bytes_share_one_entry(issuer: Issuer) -> None:
    pair = Pair(issuer)
    token = pair.token(sub="alice")
    authenticator = pair.cached.authenticator
    first = await authenticator.authenticate(token)
    assert authenticator.authenticate_sync(token) == first  # Admitted on its second use.
    assert len(pair.cache) == 1
    hits = pair.hits
    status, _, body = await http_call(
        pair.cached, [(b"authorization", b"Bearer " + token.encode())]
    )
    assert (status, pair.hits) == (200, hits + 1)
    assert b'"sub":"alice"' in body
    assert len(pair.cache) == 1  # The header's bytes found the entry the str made.


async def test_token_over_the_size_limit_is_refused_even_when_cached(issuer: Issuer) -> None:
    """Regression: ``Authenticator.authenticate`` has no size limit (the middleware's
    ``max_token_bytes`` applies to headers), and the middleware looked the raw header
    up in the cache before its size check: a long token verified through the shared
    authenticator was then accepted from a header the full path refuses as too large."""
    pair = Pair(issuer, max_token_bytes=1024)
    token = pair.token(claims={"pad": "x" * 900})
    assert len(token) > 1024
    for app in (pair.cached, pair.full):
        for _ in range(3):  # Admitted, then cached, through the public str path.
            await app.authenticator.authenticate(token)
    assert len(pair.cache) == 1
    status, _headers, body = await pair.same([(b"authorization", b"Bearer " + token.encode())])
    assert status == 401
    assert b"The token is too large." in body
