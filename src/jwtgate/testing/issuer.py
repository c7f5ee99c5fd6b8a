"""The development issuer: signing keys, a JWKS, discovery and tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, OKPAlgorithm, get_default_algorithms

from .._config.settings import Settings
from .oauth import OAuthEndpoints

__all__ = ["DEMO_SCOPES", "DEV_ALGORITHMS", "DevKey", "Issuer"]

_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
_PYJWT: dict[str, Algorithm] = {
    **get_default_algorithms(),
    # RFC 9864's fully specified names: EdDSA on one named curve.
    "Ed25519": OKPAlgorithm(),
    "Ed448": OKPAlgorithm(),
}
# PyJWT's signer, taught RFC 9864's names (PyJWT itself knows them as EdDSA).
_JWS = jwt.PyJWS()
_JWS.register_algorithm("Ed25519", OKPAlgorithm())
_JWS.register_algorithm("Ed448", OKPAlgorithm())
#: Every algorithm ``DevKey.generate`` (so ``jwtgate mint --alg``) can sign with.
DEV_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    "EdDSA", "Ed25519", "Ed448",
)  # fmt: skip
#: The scopes the demo's example apps use, offered on the login page by default.
DEMO_SCOPES: tuple[str, ...] = (
    "openid", "items:read", "items:write", "reports:read", "admin:all", "mcp:tools",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class DevKey:
    """A signing key of the development issuer and its public JWK."""

    kid: str
    alg: str
    private_key: Any = field(repr=False)

    @classmethod
    def generate(cls, alg: str = "RS256", kid: str | None = None) -> DevKey:
        """A fresh key for *alg* (RSA 2048 for RS*/PS*, the matching curve for ES*, Ed25519
        for EdDSA and Ed25519, Ed448 for Ed448): one of ``DEV_ALGORITHMS``."""
        private_key: Any
        if alg[:2] in ("RS", "PS"):
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg in _CURVES:
            private_key = ec.generate_private_key(_CURVES[alg])
        elif alg in ("EdDSA", "Ed25519"):
            private_key = ed25519.Ed25519PrivateKey.generate()
        elif alg == "Ed448":
            private_key = ed448.Ed448PrivateKey.generate()
        else:
            raise ValueError(f"the development issuer cannot sign with {alg!r}")
        return cls(
            kid=kid or f"dev-{alg.lower()}-{uuid.uuid4().hex[:8]}", alg=alg, private_key=private_key
        )

    @classmethod
    def from_pem(cls, pem: bytes, alg: str = "RS256", kid: str | None = None) -> DevKey:
        """Load a private key from PEM; *kid* defaults to the RFC 7638 thumbprint."""
        private_key = serialization.load_pem_private_key(pem, password=None)
        key = cls(kid="", alg=alg, private_key=private_key)
        try:
            key.public_jwk  # noqa: B018  (checks that the key fits alg)
        except Exception:
            raise ValueError(f"the PEM key does not fit the algorithm {alg!r}") from None
        return cls(kid=kid or key.thumbprint(), alg=alg, private_key=private_key)

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (development only)."""
        pem: bytes = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem

    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256, base64url), a stable ``kid``."""
        jwk = self.public_jwk
        members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}.get(
            jwk["kty"], ("crv", "kty", "x")
        )
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK, with ``kid``, ``alg`` and ``use``."""
        jwk: dict[str, Any] = _PYJWT[self.alg].to_jwk(self.private_key.public_key(), as_dict=True)
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk


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
            "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys}),
        }

    def settings(self, **overrides: Any) -> Settings:
        """``Settings`` that trust this issuer (discovery is used unless *jwks_url* is given)."""
        values: dict[str, Any] = {"issuer": self.issuer, "audience": (self.audience,)}
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
