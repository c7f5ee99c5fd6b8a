"""What people write instead of jwtgate, for the side-by-side benchmark (issue 5).

- ``PyJWKClientMiddleware``: the tutorial pure-ASGI middleware: PyJWT + ``PyJWKClient``
  (which caches the JWKS and keys itself, and *blocks the event loop* with urllib on a
  fetch or a cache miss);
- ``pyjwk_base_http(app, ...)``: the same check as a Starlette ``BaseHTTPMiddleware``;
- ``JoseRFCMiddleware``: joserfc (authlib's JOSE successor) with the key set pre-loaded
  by an async cache (httpx), claims checked by ``JWTClaimsRegistry``.

They check signature, ``iss``, ``aud`` and ``exp`` and answer 401 otherwise, like jwtgate.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def _bearer(scope: Any) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" and token else None
    return None


async def _unauthorized(scope: Any, receive: Any, send: Any) -> None:
    await JSONResponse({"detail": "Unauthorized"}, status_code=401)(scope, receive, send)


class PyJWKClientMiddleware:
    """PyJWT + PyJWKClient, pure ASGI, the way tutorials write it."""

    def __init__(self, app: Any, jwks_url: str, issuer: str, audience: str) -> None:
        self.app, self.issuer, self.audience = app, issuer, audience
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True)

    def verify(self, token: str) -> dict[str, Any]:
        key = self.jwks.get_signing_key_from_jwt(token)  # blocking urllib on a miss
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer
        )
        return claims

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        token = _bearer(scope)
        try:
            if token is None:
                raise jwt.InvalidTokenError("no token")
            scope["user"] = self.verify(token)
        except (jwt.InvalidTokenError, jwt.PyJWKClientError):
            return await _unauthorized(scope, receive, send)
        await self.app(scope, receive, send)


def pyjwk_base_http(app: Any, jwks_url: str, issuer: str, audience: str) -> Any:
    """The same check as a Starlette ``BaseHTTPMiddleware`` (``dispatch``)."""
    checker = PyJWKClientMiddleware(app, jwks_url, issuer, audience)

    async def dispatch(request: Request, call_next: Any) -> Response:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise jwt.InvalidTokenError("no token")
            request.state.user = checker.verify(token)
        except (jwt.InvalidTokenError, jwt.PyJWKClientError):
            return JSONResponse({"detail": "Unauthorized"}, status_code=401)
        response: Response = await call_next(request)
        return response

    return BaseHTTPMiddleware(app, dispatch=dispatch)


class JoseRFCMiddleware:
    """joserfc with an async key cache (loaded with httpx before serving)."""

    def __init__(self, app: Any, jwks_url: str, issuer: str, audience: str) -> None:
        self.app, self.jwks_url = app, jwks_url
        self.keys: KeySet | None = None
        self.registry = jose_jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )

    async def load(self) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.get(self.jwks_url)
            self.keys = KeySet.import_key_set(response.raise_for_status().json())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.keys is None:
            await self.load()
        token = _bearer(scope)
        try:
            if token is None:
                raise ValueError("no token")
            decoded = jose_jwt.decode(token, self.keys, algorithms=["RS256"])
            self.registry.validate(decoded.claims)
        except Exception:  # joserfc raises JoseError, ValueError, KeyError...
            return await _unauthorized(scope, receive, send)
        scope["user"] = decoded.claims
        await self.app(scope, receive, send)
