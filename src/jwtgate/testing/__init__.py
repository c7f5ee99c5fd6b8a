"""A development issuer for tests and demos: signing keys, a JWKS, discovery and tokens.

    issuer = Issuer("http://127.0.0.1:9999", audience="my-api")  # iss, exactly
    token = issuer.mint(sub="alice", scopes=["items:read"])
    app = JWTGateMiddleware(my_app, issuer.settings(), transport=issuer.transport())

``Issuer.transport()`` serves the issuer's discovery document and JWKS to jwtgate
in-process (an ``httpx.MockTransport``); ``serve()`` runs an issuer on a loopback
port; ``Issuer.asgi_app()`` serves them when run by uvicorn. Every face also has a
token endpoint (client credentials; authorization code with PKCE through a
development login page) and CORS for loopback origins (``jwtgate.testing.oauth``),
so Swagger UI, SPAs and OAuth clients can sign in during development.
``override(app, issuer)`` points an app's jwtgate middleware at an issuer.
``issuer.mint(dpop_key=key)``, ``dpop_proof``/``dpop_headers`` and
``app_client(app, issuer, dpop_key=key)`` test DPoP-protected routes. The pytest plugin
(``jwtgate.pytest_plugin``) wraps these as fixtures. Never use these keys outside
development.
"""

from .dpop import DPoPAuth, dpop_headers, dpop_proof
from .introspection import OpaqueTokens
from .issuer import DevKey, Issuer
from .override import app_client, override
from .server import serve

__all__ = [
    "DPoPAuth",
    "DevKey",
    "Issuer",
    "OpaqueTokens",
    "app_client",
    "dpop_headers",
    "dpop_proof",
    "override",
    "serve",
]
