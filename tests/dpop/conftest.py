"""DPoP fixtures: client proof keys, the two faces (ASGI, WSGI) and a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, Settings
from jwtgate.testing import DevKey, Issuer, app_client

from dpop_kit import Face, wsgi_app
from helpers import protected_app
from redis_server import RedisServer


@pytest.fixture(scope="session")
def client_key() -> DevKey:
    """The client's DPoP key (ES256, the usual choice)."""
    return DevKey.generate("ES256", kid="client")


@pytest.fixture(scope="session")
def other_key() -> DevKey:
    """Another client's key."""
    return DevKey.generate("ES256", kid="other")


@pytest.fixture(params=["asgi", "wsgi"])
def face(request: pytest.FixtureRequest, issuer: Issuer) -> Iterator[Face]:
    """Build a client for the ASGI or the WSGI middleware with settings overrides."""
    made: list[Any] = []

    def make(settings: Settings | None = None, **overrides: Any) -> httpx.Client:
        settings = settings or issuer.settings(**overrides)
        app: Any
        if request.param == "asgi":
            app = JWTGateMiddleware(protected_app(), settings, transport=issuer.transport())
        else:
            app = JWTGateWSGIMiddleware(wsgi_app, settings, transport=issuer.transport())
            made.append(app)
        return app_client(app)

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for app in made:
        app.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()
