"""Apps and seams the introspection tests share: the same routes over ASGI and WSGI, a clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import httpx

from jwtgate import Authenticator, JWTGateMiddleware, JWTGateWSGIMiddleware, Settings

from helpers import protected_app


class Clock:
    """A clock the tests move by hand (``Authenticator(clock=...)``), starting at real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def asgi_client(settings: Settings, clock: Clock | None = None) -> httpx.AsyncClient:
    """An httpx client for the ASGI middleware over ``protected_app`` (introspection: real HTTP)."""
    authenticator = Authenticator(settings, clock=clock or time.time)
    app = JWTGateMiddleware(protected_app(), authenticator=authenticator)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app")


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """/whoami and /items (items:read), by hand: the WSGI twin of ``protected_app``."""
    user = environ["jwtgate.user"]
    if environ["PATH_INFO"] == "/items" and (user is None or "items:read" not in user.scopes):
        status = "401 Unauthorized" if user is None else "403 Forbidden"
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]
    body = {"authenticated": user is not None, "sub": user and user.subject,
            "scopes": sorted(user.scopes) if user else []}  # fmt: skip
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def wsgi_client(settings: Settings, clock: Clock | None = None) -> httpx.Client:
    """An httpx client for the WSGI middleware over ``wsgi_app``."""
    authenticator = Authenticator(settings, clock=clock or time.time)
    app = JWTGateWSGIMiddleware(wsgi_app, authenticator=authenticator)
    return httpx.Client(transport=httpx.WSGITransport(app), base_url="http://app")
