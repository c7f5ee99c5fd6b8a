"""Apps served by uvicorn for the HTTP benchmark (``--factory bench.http_app:<name>``).

Settings come from ``JWTGATE_*`` (the benchmark points them at a loopback issuer); the
alternatives and the ceiling (``verify_only``) read the same variables and ``BENCH_JWKS_URL``.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def bare() -> Any:
    return Starlette(routes=[Route("/", _ok)])


def gated() -> Any:
    return JWTGateMiddleware(bare(), Settings.from_env())


def _args() -> tuple[str, str, str]:
    env = os.environ
    return env["BENCH_JWKS_URL"], env["JWTGATE_ISSUER"], env["JWTGATE_AUDIENCE"]


def verify_only() -> Any:
    from .floors import VerifyOnlyMiddleware

    return VerifyOnlyMiddleware(bare(), httpx.get(_args()[0]).raise_for_status().json())


def pyjwk_asgi() -> Any:
    from .alternatives import PyJWKClientMiddleware

    return PyJWKClientMiddleware(bare(), *_args())


def pyjwk_base_http() -> Any:
    from .alternatives import pyjwk_base_http

    return pyjwk_base_http(bare(), *_args())


def joserfc() -> Any:
    from .alternatives import JoseRFCMiddleware

    return JoseRFCMiddleware(bare(), *_args())
