"""The development issuer over HTTP: documents, a token endpoint, a login page and CORS.

One I/O-free handler (``OAuthEndpoints.handle``) serves every face of the issuer
(``Issuer.transport()``, ``Issuer.asgi_app()``, ``serve()``):

* ``GET`` discovery, RFC 8414 metadata and the JWKS;
* ``GET/POST /authorize``: the authorization code flow (RFC 6749 §4.1) with PKCE
  (RFC 7636, ``S256`` only, required) through a development login page where the
  user, the scopes and the roles are picked; redirect URIs must be on loopback;
* ``POST /oauth/token``: ``client_credentials`` (any client id and secret) and
  ``authorization_code`` (the code once, within 60 s, with its ``code_verifier``);
  an RFC 8707 ``resource`` parameter becomes the token's ``aud``;
* ``POST /oauth/introspect``: RFC 7662, for ``jwtgate.testing.introspection``'s tokens;
* CORS for loopback origins (Swagger UI on another port fetches discovery and
  the token endpoint from the browser), preflights included.

For local development only: any user signs in without a password.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from .._config.urls import is_loopback_host
from .introspection import OpaqueTokens
from .login import render_error_page, render_login_page

__all__ = ["AUTHORIZE_PATH", "INTROSPECTION_PATH", "TOKEN_PATH", "Answer", "OAuthEndpoints"]

AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a password)
INTROSPECTION_PATH = "/oauth/introspect"
_CODE_LIFETIME = 60.0
_JSON = ("content-type", "application/json")
_CORS_ALLOWED = "Authorization, Content-Type, Accept, X-Requested-With"


class IssuerLike(Protocol):
    """What the endpoints need of ``Issuer`` (a protocol: no import of issuer.py)."""

    url: str
    audience: str
    scopes: tuple[str, ...]
    users: tuple[str, ...]
    requests: list[str]
    opaque: OpaqueTokens

    @property
    def issuer(self) -> str: ...
    def documents(self) -> dict[str, bytes]: ...
    def mint(
        self,
        *,
        sub: str | None = ...,
        scopes: Iterable[str] = ...,
        audience: str | list[str] | None = ...,
        expires_in: float = ...,
        claims: Mapping[str, Any] | None = ...,
    ) -> str: ...


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (name, value) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    sub: str
    scopes: tuple[str, ...]
    claims: Mapping[str, Any]
    expires: float
    resource: str | None


def _json(status: int, document: Mapping[str, Any]) -> Answer:
    return Answer(status, [_JSON, ("cache-control", "no-store")], json.dumps(document).encode())


def _error(code: str, description: str, status: int = 400) -> Answer:
    return _json(status, {"error": code, "error_description": description})


def loopback_origin(origin: str | None) -> bool:
    """True for an ``Origin`` on a loopback host (the only origins given CORS)."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)


class OAuthEndpoints:
    """The HTTP face of a development issuer (see the module docstring)."""

    def __init__(self, issuer: IssuerLike) -> None:
        self.issuer = issuer
        self._codes: dict[str, _Code] = {}

    def metadata(self) -> dict[str, Any]:
        """The OAuth members of the discovery document."""
        url = self.issuer.url
        return {
            "authorization_endpoint": url + AUTHORIZE_PATH,
            "token_endpoint": url + TOKEN_PATH,
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "none", "client_secret_basic", "client_secret_post",
            ],
            "scopes_supported": list(self.issuer.scopes),
        }  # fmt: skip

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        """Answer one request (*headers* with lower-case names)."""
        headers = headers or {}
        self.issuer.requests.append(path)
        origin = headers.get("origin")
        answer = self._route(method.upper(), path, query, headers, body)
        if loopback_origin(origin):
            assert origin is not None
            answer.headers.extend(
                [
                    ("access-control-allow-origin", origin),
                    ("access-control-allow-methods", "GET, POST, OPTIONS"),
                    ("access-control-allow-headers", _CORS_ALLOWED),
                    ("access-control-max-age", "600"),
                    ("vary", "Origin"),
                ]
            )
        return answer

    def _route(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        base = urlsplit(self.issuer.url).path
        if method == "OPTIONS":
            return Answer(204)
        if path == base + AUTHORIZE_PATH and method in ("GET", "POST"):
            raw = _collect_scopes(body).decode() if method == "POST" else query
            form = dict(parse_qsl(raw))
            return self._authorize(method, form)
        if path == base + INTROSPECTION_PATH and method == "POST":
            return Answer(*self.issuer.opaque.http_answer(headers.get("authorization"), body))
        if path == base + TOKEN_PATH:
            if method != "POST":
                return _error("invalid_request", "POST the token request", 405)
            return self._token(dict(parse_qsl(body.decode("utf-8", "replace"))), headers)
        document = self.issuer.documents().get(path) if method in ("GET", "HEAD") else None
        if document is None:
            return Answer(404, [_JSON], b'{"error":"not_found"}')
        return Answer(200, [_JSON, ("cache-control", "max-age=300")], document)

    # -- authorization code with PKCE -------------------------------------------

    def _authorize(self, method: str, form: dict[str, str]) -> Answer:
        redirect_uri = form.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not is_loopback_host(target.hostname):
            return self._page(
                400,
                render_error_page(
                    f"redirect_uri {redirect_uri!r} is not a loopback URL: the development "
                    "issuer only redirects to this machine"
                ),
            )
        if not form.get("client_id"):
            return self._page(400, render_error_page("the request has no client_id"))
        problem = None
        if form.get("response_type") != "code":
            problem = ("unsupported_response_type", "only response_type=code is supported")
        elif not form.get("code_challenge") or form.get("code_challenge_method") != "S256":
            problem = (
                "invalid_request",
                "PKCE is required (code_challenge with code_challenge_method=S256); in Swagger "
                "UI: swagger_ui_init_oauth={'usePkceWithAuthorizationCodeGrant': True}",
            )
        if problem is not None:
            return self._redirect(redirect_uri, error=problem[0], error_description=problem[1],
                                  state=form.get("state"))  # fmt: skip
        requested = form.get("scope", "").split()
        if method == "GET":
            params = {k: v for k, v in form.items() if k not in ("sub", "roles", "grant_scope")}
            page = render_login_page(
                self.issuer.issuer, params, requested, self.issuer.scopes, self.issuer.users
            )
            return self._page(200, page)
        return self._redirect(redirect_uri, code=self._grant(form), state=form.get("state"))

    def _grant(self, form: dict[str, str]) -> str:
        # The checked boxes came as repeated fields, joined by _collect_scopes.
        scopes = tuple(form.get("grant_scope", "").split())
        roles = [r.strip() for r in form.get("roles", "").split(",") if r.strip()]
        claims: dict[str, Any] = {"client_id": form["client_id"]}
        if roles:
            claims["roles"] = roles
        if form.get("mfa"):
            claims.update(acr="mfa", auth_time=int(time.time()))
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        self._codes = {k: v for k, v in self._codes.items() if v.expires > now}
        self._codes[code] = _Code(
            client_id=form["client_id"],
            redirect_uri=form["redirect_uri"],
            challenge=form["code_challenge"],
            sub=form.get("sub") or "alice",
            scopes=scopes,
            claims=claims,
            expires=now + _CODE_LIFETIME,
            resource=form.get("resource") or None,
        )
        return code

    def _redirect(self, uri: str, **params: str | None) -> Answer:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return Answer(302, [("location", f"{uri}{'&' if '?' in uri else '?'}{query}")])

    def _page(self, status: int, body: bytes) -> Answer:
        return Answer(status, [("content-type", "text/html; charset=utf-8")], body)

    # -- the token endpoint -------------------------------------------------------

    def _token(self, form: dict[str, str], headers: Mapping[str, str]) -> Answer:
        client_id = form.get("client_id") or _basic_user(headers.get("authorization", ""))
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if not client_id:
                return _error("invalid_client", "give client_id (any value), or HTTP Basic", 401)
            scopes = form.get("scope", "").split()
            return self._issue(client_id, scopes, {"client_id": client_id}, form.get("resource"))
        if grant == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)
            if code is None or code.expires <= time.monotonic():
                return _error("invalid_grant", "unknown, used or expired code")
            if form.get("redirect_uri") != code.redirect_uri or client_id != code.client_id:
                return _error("invalid_grant", "redirect_uri or client_id differs from the code's")
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
                return _error("invalid_grant", "code_verifier does not match the code_challenge")
            return self._issue(code.sub, code.scopes, code.claims, code.resource)
        return _error(
            "unsupported_grant_type", "grant_type: authorization_code or client_credentials"
        )

    def _issue(
        self, sub: str, scopes: Iterable[str], claims: Mapping[str, Any], resource: str | None
    ) -> Answer:
        scopes = list(scopes)
        # RFC 8707: a client naming the resource gets a token for it (aud), as MCP
        # clients and providers' "audience" parameters expect; else the issuer's audience.
        token = self.issuer.mint(sub=sub, scopes=scopes, claims=dict(claims), expires_in=3600,
                                 audience=resource or None)  # fmt: skip
        return _json(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
             "scope": " ".join(scopes)},
        )  # fmt: skip


def _basic_user(authorization: str) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        return None
    return user or None


def _collect_scopes(body: bytes) -> bytes:
    """Join the login form's repeated ``grant_scope`` fields into one, space-separated."""
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    scopes = " ".join(v for k, v in pairs if k == "grant_scope")
    rest = [(k, v) for k, v in pairs if k != "grant_scope"]
    return urlencode([*rest, ("grant_scope", scopes)]).encode()
