"""DPoP fixtures: client proof keys, the two faces (ASGI, WSGI) and a real redis-server."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
import redis

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, Settings
from jwtgate._web.wsgi import check_environ, environ_user, respond
from jwtgate.testing import DevKey, Issuer, app_client

from helpers import protected_app
from servers import free_port

URL = "http://testserver/items"


@pytest.fixture(scope="session")
def client_key() -> DevKey:
    """The client's DPoP key (ES256, the usual choice)."""
    return DevKey.generate("ES256", kid="client")


@pytest.fixture(scope="session")
def other_key() -> DevKey:
    """Another client's key."""
    return DevKey.generate("ES256", kid="other")


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/items`` needs ``items:read``; anything else says who called."""
    if environ["PATH_INFO"] == "/items":
        denied = check_environ(environ, ("items:read",))
        if denied is not None:
            return respond(denied, start_response)
        body: dict[str, Any] = {"items": []}
    else:
        user = environ_user(environ)
        body = {"sub": user.subject if user else None}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


Face = Callable[..., httpx.Client]


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


class RedisServer:
    """A real ``redis-server`` on a free loopback port, which tests can stop and restart."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # .ci/run installs it; a bare machine gets a clear message.
            pytest.fail("redis-server is not installed: apt-get install -y redis-server")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()
