"""The development issuer: signing keys, a JWKS, discovery and tokens."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt.algorithms import OKPAlgorithm

from .._config.settings import Settings
from .introspection import OpaqueTokens
from .keys import DEV_ALGORITHMS, DevKey
from .oauth import INTROSPECTION_PATH, OAuthEndpoints

__all__ = ["DEMO_SCOPES", "DEV_ALGORITHMS", "DevKey", "Issuer"]

# PyJWT's signer, taught RFC 9864's names (PyJWT itself knows them as EdDSA).
_JWS = jwt.PyJWS()
_JWS.register_algorithm("Ed25519", OKPAlgorithm())
_JWS.register_algorithm("Ed448", OKPAlgorithm())
#: The scopes the demo's example apps use, offered on the login page by default.
DEMO_SCOPES: tuple[str, ...] = (
    "openid", "items:read", "items:write", "reports:read", "admin:all", "mcp:tools",
)  # fmt: skip


class Issuer:
    """An in-process OAuth2/OIDC issuer for development: mints tokens, serves its JWKS.

    Over HTTP (``transport()``, ``asgi_app()``, ``serve()``) it also answers a token
    endpoint and a login page (``endpoints``); *scopes* are offered there and in
    discovery, *users* suggested on the login page.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8001",
        *,
        audience: str = "jwtgate-dev",
        keys: Iterable[DevKey] | None = None,
        algorithm: str = "RS256",
        scopes: Iterable[str] = DEMO_SCOPES,
        users: Iterable[str] = ("alice", "bob", "admin"),
    ) -> None:
        # The issuer identifier is kept exactly (Auth0's and Entra v1's end in "/"); the
        # documents are served below it without that "/" (OIDC Discovery §4).
        self._issuer = url
        #: The base URL of the documents: the issuer without a trailing ``/``.
        self.url = url.rstrip("/")
        self.audience = audience
        self.keys: list[DevKey] = list(keys) if keys is not None else [DevKey.generate(algorithm)]
        if not self.keys:
            raise ValueError("an Issuer needs at least one key")
        #: Paths requested through ``transport()``, ``asgi_app()`` or ``serve()``.
        self.requests: list[str] = []
        #: Scopes offered on the login page and in discovery's ``scopes_supported``.
        self.scopes = tuple(scopes)
        #: Users suggested on the login page (any ``sub`` may sign in).
        self.users = tuple(users)
        #: Opaque tokens and the introspection endpoint (``mint_opaque``, ``revoke``).
        self.opaque = OpaqueTokens(url, audience)
        #: The HTTP face: documents, token endpoint, login page, CORS.
        self.endpoints = OAuthEndpoints(self)

    def __repr__(self) -> str:
        return f"Issuer({self._issuer!r}, kids={[k.kid for k in self.keys]!r})"

    @property
    def issuer(self) -> str:
        """The ``iss`` value the issuer puts into tokens: its URL exactly as given."""
        return self._issuer

    @property
    def jwks_url(self) -> str:
        """Where ``asgi_app()`` and ``transport()`` serve the JWKS."""
        return f"{self.url}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        """The JWKS document: every key's public half."""
        return {"keys": [key.public_jwk for key in self.keys]}

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider metadata document (the fields jwtgate reads, and a few more)."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            **self.endpoints.metadata(),
            "introspection_endpoint": self.introspection_url,
            "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys}),
        }

    @property
    def introspection_url(self) -> str:
        """Where opaque tokens are introspected (RFC 7662)."""
        return self.url + INTROSPECTION_PATH

    def mint_opaque(self, **mint: Any) -> str:
        """An opaque access token (``OpaqueTokens.mint`` arguments), known to the endpoint."""
        return self.opaque.mint(**mint)

    def revoke(self, token: str) -> None:
        """Introspect the opaque *token* as inactive from now on."""
        self.opaque.revoke(token)

    def settings(self, *, introspection: bool = False, **overrides: Any) -> Settings:
        """``Settings`` that trust this issuer (discovery is used unless *jwks_url* is given).

        *introspection*: opaque tokens are introspected at this issuer, with its client.
        """
        values: dict[str, Any] = {"issuer": self.issuer, "audience": (self.audience,)}
        if introspection:
            values.update(
                introspection_url=self.introspection_url,
                introspection_client_id=self.opaque.client_id,
                introspection_client_secret=self.opaque.client_secret,
            )
        values.update(overrides)
        return Settings(**values)

    def rotate(self, alg: str | None = None) -> DevKey:
        """Publish a new key and sign with it from now on; the old keys stay published."""
        key = DevKey.generate(alg or self.keys[0].alg)
        self.keys.insert(0, key)
        return key

    def key_for(self, algorithm: str) -> DevKey:
        """The first key signing with *algorithm*; one is generated and published if none."""
        for key in self.keys:
            if key.alg == algorithm:
                return key
        key = DevKey.generate(algorithm)
        self.keys.append(key)
        return key

    def headers(self, **mint: Any) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for a token minted with *mint* arguments."""
        return {"Authorization": f"Bearer {self.mint(**mint)}"}

    def mint(
        self,
        *,
        sub: str | None = "dev-user",
        scopes: Iterable[str] = (),
        audience: str | list[str] | None = None,
        expires_in: float = 3600,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        key: DevKey | None = None,
        algorithm: str | None = None,
        kid: str | None = None,
        now: float | None = None,
        dpop_key: DevKey | None = None,
    ) -> str:
        """A signed access token. *claims* and *headers* override or add members (None removes).

        *algorithm* signs with (and if needed publishes) a key for that algorithm; *kid*
        puts another ``kid`` in the header; *expires_in* may be negative (expired);
        *dpop_key* binds the token to that client key (``cnf.jkt``, RFC 9449 §6).
        """
        key = key or (self.key_for(algorithm) if algorithm else self.keys[0])
        issued = int(time.time() if now is None else now)
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience if audience is not None else self.audience,
            "iat": issued,
            "exp": int(issued + expires_in),
            "jti": uuid.uuid4().hex,
            "scope": " ".join(scopes),
        }
        if dpop_key is not None:
            payload["cnf"] = {"jkt": dpop_key.thumbprint()}
        payload.update(claims or {})
        header: dict[str, Any] = {"kid": kid or key.kid, "typ": "at+jwt"}
        header.update(headers or {})
        return _JWS.encode(
            json.dumps({k: v for k, v in payload.items() if v is not None}).encode(),
            key.private_key,
            algorithm=key.alg,
            headers={k: v for k, v in header.items() if v is not None},
        )

    def documents(self) -> dict[str, bytes]:
        """The documents this issuer serves (discovery, RFC 8414 metadata, JWKS), by path."""
        discovery = json.dumps(self.discovery()).encode()
        base = urlsplit(self.url).path  # An issuer may have a path (Okta, Entra, Keycloak).
        return {
            f"{base}/.well-known/openid-configuration": discovery,
            f"{base}/.well-known/oauth-authorization-server": discovery,
            f"{base}/.well-known/jwks.json": json.dumps(self.jwks()).encode(),
        }

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that serves discovery, the JWKS and the token endpoint in-process.

        Every request is counted in ``Issuer.requests`` (a list of paths, reset here).
        """
        self.requests = []

        def handler(request: httpx.Request) -> httpx.Response:
            answer = self.endpoints.handle(
                request.method,
                request.url.path,
                request.url.query.decode(),
                {k.lower(): v for k, v in request.headers.items()},
                request.read(),
            )
            # No Cache-Control in-process: tests drive lifetimes with jwks_cache_ttl.
            headers = [(k, v) for k, v in answer.headers if k != "cache-control"]
            return httpx.Response(answer.status, headers=headers, content=answer.body)

        return httpx.MockTransport(handler)

    def asgi_app(self) -> Any:
        """An ASGI app serving discovery, the JWKS, the token endpoint and the login page."""

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body") or len(body) > 65536:
                    break
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            answer = self.endpoints.handle(
                scope["method"], scope["path"], scope["query_string"].decode("latin-1"),
                headers, body,
            )  # fmt: skip
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
            await send({"type": "http.response.start", "status": answer.status, "headers": raw})
            await send({"type": "http.response.body", "body": answer.body})

        return app
