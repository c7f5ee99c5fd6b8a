"""HTTP, framework-free: what DPoP (RFC 9449) reads of a request and adds to challenges.

The proof headers and the request URL the proof's ``htu`` must match, for ASGI scopes
and WSGI environs. With ``JWTGATE_RESOURCE`` set the URL's origin is the resource's,
never the request's ``Host`` or ``X-Forwarded-*`` headers (which a client chooses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from .._config.settings import Settings
from .rfc6750 import Challenges

__all__ = [
    "asgi_proofs",
    "asgi_url",
    "dpop_challenges",
    "resource_origin",
    "wsgi_proofs",
    "wsgi_url",
]

# Characters a path may hold unescaped (RFC 3986 pchar and "/"): WSGI's PATH_INFO is
# decoded, so it is re-encoded before comparing with the proof's htu.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_HTTP_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def dpop_challenges(base: Challenges, settings: Settings) -> tuple[Challenges, Challenges]:
    """The challenges for requests without DPoP and for ``DPoP`` requests, from *base*.

    Where DPoP is accepted both offer a ``DPoP`` challenge with ``algs`` (RFC 9449
    §7.1): second after ``Bearer``, first under ``required`` and for DPoP requests.
    """
    if settings.dpop == "disabled":
        return base, base
    algs = tuple(settings.dpop_algorithms)
    bearer = dataclasses.replace(base, dpop_algs=algs, dpop_first=settings.dpop == "required")
    dpop = dataclasses.replace(base, dpop_algs=algs, dpop_first=True, scheme="DPoP")
    return bearer, dpop


def resource_origin(resource: str | None) -> str | None:
    """``scheme://host[:port]`` of *resource*, or None when it is not set."""
    if resource is None:
        return None
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}"


def asgi_proofs(scope: Mapping[str, Any]) -> list[str]:
    """Every ``DPoP`` header value of an ASGI request (RFC 9449 §4.3 wants exactly one)."""
    return [value.decode("latin-1") for name, value in scope["headers"] if name == b"dpop"]


def asgi_url(scope: Mapping[str, Any], origin: str | None) -> str:
    """The URL an ASGI request was sent to, without query; *origin* wins over ``Host``."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        # Some servers and test clients leave the query in raw_path.
        path = raw.partition(b"?")[0].decode("latin-1")
    else:
        # ASGI servers put the mount point (root_path) inside path already.
        path = quote(scope["path"], safe=_PATH_SAFE)
    if origin is None:
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
        # A websocket handshake is an HTTP GET: its proof names the http(s) URL.
        scheme = _HTTP_SCHEME.get(scope.get("scheme", "http"), "http")
        origin = f"{scheme}://{host}"
    return origin + path


def wsgi_proofs(environ: Mapping[str, Any]) -> list[str]:
    """Every ``DPoP`` header value of a WSGI request.

    WSGI servers join repeated headers with ``,``, which is not in the base64url
    alphabet: a comma means several proofs.
    """
    value = environ.get("HTTP_DPOP")
    if value is None:
        return []
    return [part.strip() for part in str(value).split(",")]


def wsgi_url(environ: Mapping[str, Any], origin: str | None) -> str:
    """The URL a WSGI request was sent to, without query; *origin* wins over ``Host``."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    # PEP 3333: the path is bytes decoded as latin-1; its UTF-8 bytes are re-escaped.
    path = quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE)
    if origin is None:
        host = environ.get("HTTP_HOST")
        if not host:
            host = f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        origin = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
    return origin + (path or "/")
