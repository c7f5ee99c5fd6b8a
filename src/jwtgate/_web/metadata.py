"""RFC 9728 protected resource metadata: the document, where it lives, and answering for it.

With ``JWTGATE_RESOURCE`` set, both middlewares answer
``GET /.well-known/oauth-protected-resource`` (and, for a resource with a path, that
path appended after it, RFC 9728 §3.1) before any authentication, and every 401
challenge points at that URL in ``resource_metadata`` (RFC 9728 §5.1). Everything in
the document comes from the settings that verify tokens, never from the request: a
``Host`` or ``X-Forwarded-*`` header cannot make this API advertise another resource
or another authorization server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from .._config.issuer_rules import ASYMMETRIC_ALGORITHMS
from .._config.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
else:
    StartResponse = WSGIEnvironment = Any

__all__ = [
    "WELL_KNOWN_PATH",
    "ResourceMetadata",
    "build_metadata",
    "dpop_policy",
    "metadata_url",
]

#: The well-known path of RFC 9728 §3.
WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource"
_PHRASES = {200: "OK", 204: "No Content", 405: "Method Not Allowed"}
# The document is public and the same for everyone: browser-based MCP clients read it
# from another origin, and may send MCP-Protocol-Version with it (hence the preflight).
_CORS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"mcp-protocol-version"),
)


def metadata_url(resource: str) -> str:
    """The metadata URL of *resource*: the well-known path inserted before its path."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")  # RFC 9728 §3.1: a terminating "/" after the host is dropped.
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}{path}"


def dpop_policy(settings: Settings) -> tuple[tuple[str, ...] | None, bool]:
    """The DPoP answer of the metadata: (proof algorithms, or None when disabled; required).

    The one place the metadata consults the DPoP mode (``JWTGATE_DPOP``): ``allowed``
    (the default) and ``required`` advertise the asymmetric algorithms proofs may use.
    """
    # Read by name so that this module needs no DPoP code: a Settings without the
    # field (before DPoP support) is in the default mode, "allowed".
    mode = getattr(settings, "dpop", "allowed")
    if mode == "disabled":
        return None, False
    algs = getattr(settings, "dpop_algorithms", None) or ASYMMETRIC_ALGORITHMS
    return tuple(algs), mode == "required"


def build_metadata(settings: Settings) -> dict[str, object]:
    """The RFC 9728 §2 document for *settings*; ``settings.resource`` must be set."""
    if not settings.resource:
        raise ValueError("protected resource metadata needs settings.resource")
    issuers = [c.issuer for c in settings.issuers] if settings.issuers else [settings.issuer]
    document: dict[str, object] = {"resource": settings.resource}
    # RFC 9728 §2: issuer identifiers of RFC 8414, which are URLs; a bare name (a shared
    # secret's "legacy" issuer) is nothing a client could discover, so it is left out.
    servers = [iss for iss in issuers if urlsplit(iss).scheme in ("https", "http")]
    if servers:
        document["authorization_servers"] = servers
    document["bearer_methods_supported"] = ["header"]  # Never the body or the query.
    if settings.scopes_supported:
        document["scopes_supported"] = list(settings.scopes_supported)
    if settings.resource_documentation:
        document["resource_documentation"] = settings.resource_documentation
    algs, required = dpop_policy(settings)
    if algs is not None:
        document["dpop_signing_alg_values_supported"] = list(algs)
    document["dpop_bound_access_tokens_required"] = required
    return document


class ResourceMetadata:
    """The precomputed answers for one resource's metadata, for ASGI and WSGI alike."""

    def __init__(self, settings: Settings) -> None:
        document = build_metadata(settings)
        self.url = metadata_url(str(document["resource"]))
        path = urlsplit(self.url).path
        #: The request paths answered: the RFC 9728 one, and the bare well-known path
        #: (which clients try last, SEP-985) when the resource has a path.
        self.paths = frozenset((path, WELL_KNOWN_PATH))
        self.body = json.dumps(document, separators=(",", ":")).encode()
        self._ok = (
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
            (b"cache-control", b"public, max-age=300"),
            *_CORS,
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> ResourceMetadata | None:
        """The metadata of *settings*, or None when ``resource`` is not set."""
        return cls(settings) if settings.resource else None

    def answer(self, method: str) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes]:
        """Status, headers and body for a request with *method* to one of ``paths``."""
        if method in ("GET", "HEAD"):
            return 200, self._ok, b"" if method == "HEAD" else self.body
        if method == "OPTIONS":
            return 204, _CORS, b""
        return 405, ((b"allow", b"GET, HEAD, OPTIONS"), (b"content-length", b"0")), b""

    async def serve_asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an ASGI HTTP request for the document."""
        status, headers, body = self.answer(scope["method"])
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})

    def serve_wsgi(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer a WSGI request for the document."""
        status, headers, body = self.answer(environ.get("REQUEST_METHOD", "GET"))
        start_response(
            f"{status} {_PHRASES[status]}",
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
        )
        return [body]
