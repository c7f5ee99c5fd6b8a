"""Hostile tokens with introspection on: nothing odd reaches the authorization server.

Each row goes through the ASGI middleware as raw header bytes (no client library
to tidy them up) and through the WSGI one; the server's call count is asserted.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from opaque_apps import wsgi_app

from jwtgate import Authenticator, JWTGateMiddleware, JWTGateWSGIMiddleware
from jwtgate.testing import Issuer

from helpers import protected_app

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


JWS_NONE = f"{b64({'alg': 'none'})}.{b64({'sub': 'x', 'exp': 9999999999})}."
JWS_GARBAGE_SIG = f"{b64({'alg': 'RS256', 'kid': 'k'})}.{b64({'sub': 'x'})}.AAAA"
JWS_BAD_PAYLOAD = f"{b64({'alg': 'RS256'})}.!!!!.AAAA"

# (header bytes after "Bearer ", expected status, introspection calls)
ROWS = [
    pytest.param(b"abc\x01def", 401, 0, id="control-character"),
    pytest.param(b"abc\x7fdef", 401, 0, id="delete-character"),
    pytest.param(b"abc\x1fdef", 400, 0, id="unit-separator-splits"),
    pytest.param(b"t\xc3\xb6ken", 401, 0, id="non-ascii"),
    pytest.param(b'abc"def', 401, 0, id="quote"),
    pytest.param(b"abc,def", 401, 0, id="comma"),
    pytest.param(b"==abc", 401, 0, id="padding-first"),
    pytest.param(b"a" * 20000, 401, 0, id="huge"),
    pytest.param(b"a" * 16384, 401, 1, id="largest-allowed-is-asked-inactive"),
    pytest.param(JWS_NONE.encode(), 401, 0, id="jws-alg-none"),
    pytest.param(JWS_GARBAGE_SIG.encode(), 401, 0, id="jws-unknown-key"),
    pytest.param(JWS_BAD_PAYLOAD.encode(), 401, 0, id="jws-undecodable-payload"),
    pytest.param(b"a.b.c", 401, 1, id="three-parts-not-jws-is-asked"),
    pytest.param(b"eyJ.eyJ.x", 401, 1, id="jws-prefix-not-json-is-asked"),
]


async def asgi_status(app: Any, value: bytes) -> tuple[int, dict[bytes, bytes]]:
    scope = {
        "type": "http", "method": "GET", "path": "/whoami", "raw_path": b"/whoami",
        "query_string": b"", "root_path": "", "scheme": "http", "server": ("t", 80),
        "client": ("c", 1), "headers": [(b"authorization", b"Bearer " + value)],
        "asgi": {"version": "3.0"}, "http_version": "1.1",
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


@pytest.mark.parametrize(("value", "status", "calls"), ROWS)
async def test_hostile_tokens_asgi(live: Issuer, value: bytes, status: int, calls: int) -> None:
    app = JWTGateMiddleware(protected_app(), live.settings(introspection=True))
    got, headers = await asgi_status(app, value)
    assert got == status
    assert live.opaque.calls == calls
    challenge = headers.get(b"www-authenticate", b"")
    assert value not in challenge or len(value) < 4


@pytest.mark.parametrize(("value", "status", "calls"), ROWS)
def test_hostile_tokens_wsgi(live: Issuer, value: bytes, status: int, calls: int) -> None:
    authenticator = Authenticator(live.settings(introspection=True))
    app = JWTGateWSGIMiddleware(wsgi_app, authenticator=authenticator)
    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/whoami", "SCRIPT_NAME": "",
        "HTTP_AUTHORIZATION": "Bearer " + value.decode("latin-1"),
    }  # fmt: skip
    b"".join(app(environ, lambda s, h: seen.append(s)))
    # WSGI servers join repeated headers with commas: a comma there is a malformed header (400).
    assert int(seen[0].split()[0]) == (400 if b"," in value else status)
    assert live.opaque.calls == calls
    authenticator.close()


async def test_an_answer_stuffed_with_members_stays_bounded_in_memory(live: Issuer) -> None:
    settings = live.settings(introspection=True, introspection_cache_bytes=64 * 1024)
    authenticator = Authenticator(settings)
    big = {f"m{i}": "x" * 100 for i in range(50)}  # About 6 KB per answer.
    tokens = [live.mint_opaque(claims=big) for _ in range(40)]
    for token in tokens:
        await authenticator.authenticate(token)
    cache = authenticator.introspector.cache  # type: ignore[union-attr]
    assert cache.weight <= 64 * 1024
    assert 0 < len(cache) < 40
    await authenticator.aclose()


def test_the_cache_is_bounded_in_entries_and_holds_no_raw_token(live: Issuer) -> None:
    authenticator = Authenticator(live.settings(introspection=True, introspection_cache_size=8))
    tokens = [live.mint_opaque() for _ in range(20)]
    for token in tokens:
        authenticator.authenticate_sync(token)
    cache = authenticator.introspector.cache  # type: ignore[union-attr]
    assert len(cache) == 8
    held = repr(vars(cache)).encode() + b"".join(key for key in vars(cache)["_positive"])
    assert not any(token.encode() in held for token in tokens)
    authenticator.close()


async def test_an_httpx_client_sees_a_well_formed_answer(live: Issuer) -> None:
    app = JWTGateMiddleware(protected_app(), live.settings(introspection=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://a") as c:
        response = await c.get("/whoami", headers={"Authorization": "Bearer " + "a" * 20000})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
