"""``override(app, issuer)`` points an app's jwtgate middleware at a development issuer;
``app_client(app, issuer)`` gives a synchronous client for it."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any, TypeVar

import anyio
import httpx

from .._config.settings import Settings
from .._verify.authenticator import Authenticator
from .._web.asgi import JWTGateMiddleware
from .._web.wsgi import JWTGateWSGIMiddleware
from .dpop import DPoPAuth
from .issuer import DevKey, Issuer

__all__ = ["app_client", "override"]

A = TypeVar("A")


def _retarget(settings: Settings | None, issuer: Issuer) -> Settings:
    """*settings* trusting *issuer* instead; every other choice (scope claims...) kept."""
    if settings is None:
        return issuer.settings()
    audience = (issuer.audience,) if settings.verify_audience else None
    return dataclasses.replace(
        settings, issuer=issuer.issuer, audience=audience, jwks_url=issuer.jwks_url
    )


def override(app: A, issuer: Issuer) -> A:
    """Make the jwtgate middleware inside *app* trust *issuer*; returns *app*.

    Finds ``JWTGateMiddleware`` (registered on a Starlette/FastAPI app, or wrapping
    it), self-verifying ``JWTGateAuth`` dependencies on a FastAPI app's routes and
    ``JWTGateWSGIMiddleware`` (e.g. a Flask app's ``wsgi_app``), replaces the
    issuer, audience and JWKS URL of their settings by the issuer's (keeping scope
    claims, excluded paths, realm, ...), and fetches keys through ``issuer.transport()``
    so no network is used. Raises ``LookupError`` when there is no jwtgate middleware.
    For tests only: it changes *app* in place.
    """
    found = False
    seen: set[int] = set()
    node: Any = app
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, JWTGateWSGIMiddleware):
            settings = _retarget(node.settings, issuer)
            node.use(Authenticator(settings, sync_transport=issuer.transport()))
            found = True
        elif isinstance(node, JWTGateMiddleware):
            settings = _retarget(getattr(node, "settings", None), issuer)
            # Re-running __init__ rebuilds every precomputed field from the new settings.
            JWTGateMiddleware.__init__(node, node.app, settings, transport=issuer.transport())
            found = True
        found = _starlette_app(node, issuer) or found
        found = _fastapi_dependencies(node, issuer) or found
        inner = getattr(node, "wsgi_app", None)  # Flask keeps its WSGI stack there.
        node = inner if inner is not None else getattr(node, "app", None)
    if not found:
        raise LookupError(f"no jwtgate middleware found in {app!r}")
    return app


def _fastapi_dependencies(node: Any, issuer: Issuer) -> bool:
    """Retarget self-verifying ``JWTGateAuth`` dependencies of a FastAPI app's routes."""
    module = sys.modules.get("jwtgate.fastapi")
    routes = getattr(getattr(node, "router", None), "routes", None)
    if module is None or not isinstance(routes, list):
        return False
    found, seen = False, set()
    stack = [route.dependant for route in routes if hasattr(route, "dependant")]
    while stack:
        dependant = stack.pop()
        stack.extend(dependant.dependencies)
        auth = dependant.call
        if isinstance(auth, module.JWTGateAuth) and id(auth) not in seen:
            seen.add(id(auth))
            found = True
            if auth.authenticator is not None:  # Middleware mode needs no change.
                settings = _retarget(auth.authenticator.settings, issuer)
                auth.authenticator = Authenticator(settings, transport=issuer.transport())
    return found


def _starlette_app(node: Any, issuer: Issuer) -> bool:
    """Retarget the ``Middleware(JWTGateMiddleware, ...)`` entries of a Starlette app."""
    from starlette.middleware import Middleware

    entries = getattr(node, "user_middleware", None)
    if not isinstance(entries, list):
        return False
    found = False
    for i, entry in enumerate(entries):
        if isinstance(entry, Middleware) and getattr(entry, "cls", None) is JWTGateMiddleware:
            kwargs: dict[str, Any] = dict(entry.kwargs)
            if entry.args:  # JWTGateMiddleware's only positional parameter is settings.
                kwargs["settings"] = entry.args[0]
            kwargs["settings"] = _retarget(kwargs.get("settings"), issuer)
            kwargs["transport"] = issuer.transport()
            kwargs.pop("http_client", None)
            kwargs.pop("key_set", None)
            entries[i] = Middleware(JWTGateMiddleware, **kwargs)
            found = True
    if found:
        node.middleware_stack = None  # Starlette rebuilds it on the next call.
    return found


class _SyncASGITransport(httpx.BaseTransport):
    """Call an ASGI app from synchronous test code: one event loop per request."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def run() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        result: httpx.Response = anyio.run(run)
        return result


def app_client(
    app: Any, issuer: Issuer | None = None, *, dpop_key: DevKey | None = None, **kwargs: Any
) -> httpx.Client:
    """A synchronous ``httpx.Client`` calling *app* in-process (ASGI or WSGI).

    With *issuer*, ``override(app, issuer)`` is applied first. With *dpop_key*, requests
    sent with ``Authorization: DPoP <token>`` get a fresh proof signed with that key
    (``DPoPAuth``). *kwargs* go to ``httpx.Client`` (``base_url`` defaults to
    ``http://testserver``). ASGI apps run without lifespan, one event loop per request;
    keys are fetched on first use.
    """
    if issuer is not None:
        override(app, issuer)
    if dpop_key is not None:
        kwargs.setdefault("auth", DPoPAuth(dpop_key))
    transport: httpx.BaseTransport
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__):
        transport = _SyncASGITransport(app)
    else:
        transport = httpx.WSGITransport(app)
    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=transport, **kwargs)
