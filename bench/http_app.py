"""Apps served by uvicorn for the HTTP benchmark (``--factory bench.http_app:<name>``)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def bare() -> Any:
    return Starlette(routes=[Route("/", _ok)])


def gated() -> Any:  # settings from JWTGATE_* (the bench points them at a loopback issuer)
    return JWTGateMiddleware(bare(), Settings.from_env())
