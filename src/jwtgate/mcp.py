"""MCP servers behind jwtgate: the official ``mcp`` SDK's streamable HTTP app as a resource server.

Install with ``pip install "jwtgate[mcp]"``. Three lines protect an ``MCPServer``::

    from jwtgate.mcp import protect

    mcp = MCPServer("tools")  # ... its tools ...
    app = protect(mcp, scopes=["mcp:tools"])  # JWTGATE_ISSUER, JWTGATE_RESOURCE from the env

``protect`` serves the SDK's streamable HTTP transport at the path of ``JWTGATE_RESOURCE``
(the MCP endpoint's URL) behind ``JWTGateMiddleware``: every request needs a valid token
with every scope in *scopes*, refusals are jwtgate's RFC 6750/9449 answers (with
``resource_metadata`` and ``scope`` as the MCP authorization spec asks), the RFC 9728
metadata is served, and inside a tool the SDK's ``get_access_token()`` gives the caller
(``subject``, ``client_id``, ``scopes``, ``claims``).

``JWTGateTokenVerifier`` is the other way in, for code already built on the SDK's
``AuthSettings``: the SDK's ``TokenVerifier`` protocol over jwtgate's verification. The
SDK then answers refusals itself (one generic 401, no 503).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from ._config.settings import Settings
from ._config.urls import is_loopback_host
from ._exceptions import (
    AuthenticationRequired,
    AuthError,
    ConfigurationError,
    InsufficientScope,
    KeySetUnavailable,
)
from ._verify.authenticator import Authenticator
from ._verify.verifier import VerifiedToken, accepted_audiences
from ._web.asgi import JWTGateMiddleware
from ._web.rfc6750 import Challenges, render_error
from ._web.starlette import CHALLENGES_KEY, TokenUser, validate_scope_tokens

__all__ = ["JWTGateTokenVerifier", "MCPUser", "access_token", "protect"]

logger = logging.getLogger("jwtgate.mcp")


def access_token(verified: VerifiedToken, token: str, settings: Settings) -> AccessToken:
    """The SDK's ``AccessToken`` for a verified token (*token* is its compact form)."""
    aud = verified.claims.get("aud")
    auds = [aud] if isinstance(aud, str) else [a for a in aud or () if isinstance(a, str)]
    # The SDK reads `resource` as the audience this server accepted (RFC 8707).
    resource = next((a for a in auds if a == settings.resource), None)
    if resource is None:
        accepted = accepted_audiences(settings)
        resource = next((a for a in auds if a in accepted), None)
    return AccessToken(
        token=token,
        client_id=verified.client_id or "",
        scopes=sorted(verified.scopes),
        expires_at=int(verified.expires_at),
        resource=resource,
        subject=verified.subject,
        claims=dict(verified.claims),
    )


class MCPUser(TokenUser, AuthenticatedUser):  # type: ignore[misc]
    """``request.user`` on MCP requests: jwtgate's ``TokenUser`` and the SDK's user at once.

    The SDK ties each session to the (client id, issuer, subject) of the user that opened
    it and gives tools ``get_access_token()``; jwtgate's ``requires_scope`` keeps working.
    """

    def __init__(self, verified: VerifiedToken, token: AccessToken) -> None:
        TokenUser.__init__(self, verified)
        # Not AuthenticatedUser.__init__: its `scopes` list would shadow TokenUser's set.
        self.username = token.client_id
        self.access_token = token


def _token_of(scope: Scope) -> tuple[str, str]:
    """The scheme and token of the request's (already verified) ``Authorization`` header."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            return ("DPoP" if scheme.lower() == "dpop" else "Bearer"), token.strip()
    return "Bearer", ""


class _RequireScopes:
    """Inside ``JWTGateMiddleware``: every HTTP request needs a token with *scopes*."""

    def __init__(self, app: ASGIApp, scopes: tuple[str, ...], settings: Settings) -> None:
        self.app = app
        self.scopes = scopes
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        scheme, raw = _token_of(scope)
        if isinstance(user, TokenUser) and user.scopes.issuperset(self.scopes):
            mcp_user = MCPUser(user.token, access_token(user.token, raw, self.settings))
            scope["user"] = mcp_user
            reset = auth_context_var.set(mcp_user)  # What the SDK's get_access_token() reads.
            try:
                await self.app(scope, receive, send)
            finally:
                auth_context_var.reset(reset)
            return
        error: AuthError = (
            InsufficientScope(self.scopes)
            if isinstance(user, TokenUser)
            else AuthenticationRequired(scopes=self.scopes)
        )
        logger.debug("Refused MCP request: reason=%s", error.reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        challenges = scope.get(CHALLENGES_KEY, Challenges())
        status, headers, body = render_error(error, challenges, scheme)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _endpoint_path(resource: str) -> str:
    path = urlsplit(resource).path.rstrip("/")
    return path or "/mcp"


def _transport_security(resource: str) -> TransportSecuritySettings:
    # DNS-rebinding protection for the configured resource, not the SDK's loopback-only
    # default (which would refuse every request to a deployed server's host name).
    parts = urlsplit(resource)
    hosts, origins = [parts.netloc], [f"{parts.scheme}://{parts.netloc}"]
    if is_loopback_host(parts.hostname):
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins += ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def protect(
    server: MCPServer[Any] | ASGIApp,
    *,
    scopes: Sequence[str] = (),
    settings: Settings | None = None,
    authenticator: Authenticator | None = None,
    **app_options: Any,
) -> JWTGateMiddleware:
    """An ASGI app serving *server* over streamable HTTP, every request needing *scopes*.

    *server* is an ``MCPServer`` (its ``streamable_http_app`` is built at the path of the
    resource URL, ``/mcp`` when it has none, with DNS-rebinding protection for the
    resource's host; *app_options* go to ``streamable_http_app``) or any ASGI app.
    *settings* defaults to ``Settings.from_env()``; ``resource`` (``JWTGATE_RESOURCE``) is
    required, and *scopes* become the metadata's ``scopes_supported`` unless it is set.
    *authenticator* replaces the verification object (and its settings).
    """
    needed = validate_scope_tokens(tuple(scopes))
    if authenticator is not None:
        settings = authenticator.settings
    settings = settings or Settings.from_env()
    resource = settings.resource
    if not resource:
        raise ConfigurationError(
            "JWTGATE_RESOURCE",
            "is required for an MCP server: the URL of its MCP endpoint, e.g. "
            "https://mcp.example.com/mcp (MCP clients find the authorization server from it)",
        )
    if needed and not settings.scopes_supported and authenticator is None:
        settings = dataclasses.replace(settings, scopes_supported=needed)
    if isinstance(server, MCPServer):
        app_options.setdefault("streamable_http_path", _endpoint_path(resource))
        app_options.setdefault("transport_security", _transport_security(resource))
        server = server.streamable_http_app(**app_options)
    elif app_options:
        raise TypeError("app_options are only for an MCPServer")
    guarded = _RequireScopes(server, needed, settings)
    if authenticator is not None:
        return JWTGateMiddleware(guarded, authenticator=authenticator)
    return JWTGateMiddleware(guarded, settings)


class JWTGateTokenVerifier:
    """The SDK's ``TokenVerifier``, verifying with jwtgate (``MCPServer(token_verifier=...)``).

    Pass ``AuthSettings(issuer_url=..., resource_server_url=JWTGATE_RESOURCE,
    required_scopes=[...], validate_token_resource=True)`` with it. A refused token is
    None to the SDK, which answers 401 itself; so does an outage of the key set (the SDK
    has no 503): ``protect`` keeps jwtgate's own answers.
    """

    def __init__(
        self, settings: Settings | None = None, *, authenticator: Authenticator | None = None
    ) -> None:
        self.authenticator = authenticator or Authenticator(settings or Settings.from_env())
        self.settings = self.authenticator.settings

    async def verify_token(self, token: str) -> AccessToken | None:
        """The ``AccessToken`` for *token*, or None when jwtgate refuses it."""
        try:
            verified = await self.authenticator.authenticate(token)
        except KeySetUnavailable as exc:
            logger.warning("MCP token refused, no signing keys: %s", exc.description)
            return None
        except AuthError as exc:
            logger.debug("MCP token refused: reason=%s", exc.reason)
            return None
        return access_token(verified, token, self.settings)

    async def aclose(self) -> None:
        """Release the HTTP client, if jwtgate created it."""
        await self.authenticator.aclose()
