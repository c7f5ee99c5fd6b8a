"""Helpers every test folder shares: the test issuer's names, small apps, request builders."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import requires_scope
from jwtgate._config.dpop_fields import DPOP_ALGORITHMS

ISSUER_URL = "https://issuer.test"


AUDIENCE = "api://test"
#: The DPoP challenge (RFC 9449 §7.1) a default middleware adds after the Bearer one.
DPOP_CHALLENGE = f'DPoP algs="{" ".join(DPOP_ALGORITHMS)}", realm="api"'


def first_challenge(response: Any) -> str:
    """The first ``WWW-Authenticate`` field of an httpx response (the request's scheme).

    A second field, when there is one, must be a ``DPoP`` challenge: DPoP is accepted
    by default, and each scheme has its own field.
    """
    fields = response.headers.get_list("www-authenticate")
    assert 1 <= len(fields) <= 2, fields
    assert all(field.startswith("DPoP ") for field in fields[1:]), fields
    return str(fields[0])


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

