"""The apps the fault soak runs under real servers: ``/me`` behind jwtgate, both faces.

Configured from ``JWTGATE_*`` like the examples. Every answer (the middleware's own
401/400/503 included) carries what the worker knew when the request arrived, read
through public API only, so the soak can judge each answer against the cache state
of the worker that gave it:

``x-soak-pid``, ``x-soak-now`` (the worker's clock), ``x-soak-kids`` (the cached
kids), ``x-soak-usable-until`` (expiry plus ``JWTGATE_JWKS_MAX_STALE``; empty before
the first fetch), ``x-soak-fetches`` (fetches attempted), ``x-soak-threads`` and
``x-soak-rss-kb``; and, read again when the answer starts (after the key lookup),
``x-soak-end-now`` and ``x-soak-end-usable-until``: when both readings name the same
set, the lookup in between saw that set. The ``jwtgate`` loggers write DEBUG lines to stderr (rejection
reasons included), so the soak can check that no token reaches a log.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import Authenticator, JWTGateMiddleware, JWTGateWSGIMiddleware, Settings
from jwtgate import requires_scope as asgi_requires_scope
from jwtgate._web.wsgi import check_environ, environ_user, respond

handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(
    logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
)
logging.getLogger("jwtgate").addHandler(handler)  # "jwtgate.wsgi" propagates to it.
logging.getLogger("jwtgate").setLevel(logging.DEBUG)

settings = Settings.from_env()


def _rss_kb() -> str:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return line.split()[1]
    return ""


def tags(authenticator: Authenticator) -> list[tuple[str, str]]:
    """What this worker knows now, as response headers."""
    (state,) = authenticator.state()
    until = "" if state.expires_at is None else f"{state.expires_at + settings.jwks_max_stale:.3f}"
    return [
        ("x-soak-pid", str(os.getpid())),
        ("x-soak-now", f"{time.time():.3f}"),
        ("x-soak-kids", ",".join(k or "" for k in state.kids)),
        ("x-soak-usable-until", until),
        ("x-soak-fetches", str(state.fetch_count)),
        ("x-soak-threads", str(threading.active_count())),
        ("x-soak-rss-kb", _rss_kb()),
    ]


def end_tags(authenticator: Authenticator) -> list[tuple[str, str]]:
    """The worker's clock and stale-window end again, as the answer starts."""
    known = dict(tags(authenticator))
    return [
        ("x-soak-end-now", known["x-soak-now"]),
        ("x-soak-end-usable-until", known["x-soak-usable-until"]),
    ]


# -- WSGI --------------------------------------------------------------------


def _me(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") != "/me":
        start_response("404 Not Found", [("content-type", "text/plain")])
        return [b"not found"]
    refused = check_environ(environ, ())
    if refused is not None:
        return respond(refused, start_response)
    user = environ_user(environ)
    start_response("200 OK", [("content-type", "text/plain")])
    return [f"sub={user.subject if user else None}".encode()]


_wsgi = JWTGateWSGIMiddleware(_me, settings)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI app, tagged."""
    known = tags(_wsgi.authenticator)

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, *known, *end_tags(_wsgi.authenticator)], exc_info)

    return _wsgi(environ, start)


# -- ASGI --------------------------------------------------------------------


@asgi_requires_scope()
async def me(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.user.subject})


_asgi = JWTGateMiddleware(Starlette(routes=[Route("/me", me)]), settings)


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI app, tagged (lifespan passed through: the refresher runs in it)."""
    if scope["type"] != "http":
        await _asgi(scope, receive, send)
        return
    known = [(k.encode(), v.encode()) for k, v in tags(_asgi.authenticator)]

    async def tagged(message: Any) -> None:
        if message["type"] == "http.response.start":
            end = [(k.encode(), v.encode()) for k, v in end_tags(_asgi.authenticator)]
            message = {**message, "headers": [*message.get("headers", []), *known, *end]}
        await send(message)

    await _asgi(scope, receive, tagged)
