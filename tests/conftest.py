"""Shared fixtures: keys generated once per session, a development issuer per test."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings, requires_scope
from jwtgate.testing import DevKey, Issuer

ISSUER_URL = "https://issuer.test"
AUDIENCE = "api://test"

# Property tests stay bounded in CI; HYPOTHESIS_PROFILE=dev (or fuzz) searches longer.
hypothesis_settings.register_profile("ci", max_examples=500, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", max_examples=3000, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=100_000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def rsa_key() -> DevKey:
    return DevKey.generate("RS256", kid="rsa-1")


@pytest.fixture(scope="session")
def rsa_key_2() -> DevKey:
    return DevKey.generate("RS256", kid="rsa-2")


@pytest.fixture(scope="session")
def ec_key() -> DevKey:
    return DevKey.generate("ES256", kid="ec-1")


@pytest.fixture(scope="session")
def ed_key() -> DevKey:
    return DevKey.generate("EdDSA", kid="ed-1")


@pytest.fixture
def issuer(rsa_key: DevKey) -> Issuer:
    """An issuer at https://issuer.test signing with RS256 key ``rsa-1``."""
    return Issuer(ISSUER_URL, audience=AUDIENCE, keys=[rsa_key])


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse(
        {
            "authenticated": user.is_authenticated,
            "sub": getattr(user, "subject", None),
            "scopes": sorted(request.auth.scopes),
        }
    )


@requires_scope("items:read")
async def read_items(request: Request) -> JSONResponse:
    return JSONResponse({"items": []})


def protected_app() -> Starlette:
    """A bare app: /whoami open to all, /items needing items:read."""
    return Starlette(routes=[Route("/whoami", whoami), Route("/items", read_items)])


@pytest.fixture
def make_client(issuer: Issuer) -> Callable[..., httpx.AsyncClient]:
    """Build an in-process client for ``protected_app`` behind the middleware."""

    def make(settings: Settings | None = None, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("transport", issuer.transport())
        app = JWTGateMiddleware(protected_app(), settings or issuer.settings(), **kwargs)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ws_call(
    app: Any, token: str, extensions: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Drive one websocket connection to /ws with *token*; returns what the app sent."""
    scope = {
        "type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"", "root_path": "",
        "headers": [(b"authorization", f"Bearer {token}".encode())], "scheme": "ws",
        "server": ("t", 80), "client": ("c", 1), "subprotocols": [],
        "extensions": extensions or {}, "asgi": {"version": "3.0"},
    }  # fmt: skip
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


class CacheHits:
    """Counts the entries a token cache's ``get`` finds (wraps that instance's ``get``)."""

    def __init__(self, cache: Any) -> None:
        self.count = 0
        get = cache.get

        def counting_get(token: bytes) -> Any:
            entry = get(token)
            self.count += entry is not None
            return entry

        cache.get = counting_get
