"""HTTP, framework-free: reading ``Authorization`` and writing RFC 6750 answers.

Shared by the ASGI middleware, the WSGI middleware and the scope decorators, so
that every edge answers the same bytes for the same error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import lru_cache

from .._exceptions import (
    AuthenticationRequired,
    AuthError,
    InsufficientScope,
    InvalidRequest,
    KeySetUnavailable,
    MalformedToken,
)

__all__ = ["ErrorResponse", "log_rejection", "parse_authorization", "render_error"]

Headers = tuple[tuple[bytes, bytes], ...]
ErrorResponse = tuple[int, Headers, bytes]


def parse_authorization(values: Iterable[str], max_token_bytes: int) -> str | None:
    """The bearer token in the ``Authorization`` header values, or None when there is none.

    Another scheme (``Basic`` ...) counts as no bearer token. Raises ``InvalidRequest``
    for a header that is present but malformed, ``MalformedToken`` for an oversize token.
    """
    values = list(values)
    if not values:
        return None
    if len(values) > 1:
        # Two credentials: picking one would let a proxy and the app disagree on which.
        raise InvalidRequest("The request has more than one Authorization header.")
    scheme, _, credentials = values[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    parts = credentials.split()
    if not parts:
        raise InvalidRequest("The Authorization header has no bearer token.")
    if len(parts) > 1:
        raise InvalidRequest("The Authorization header has extra parts after the token.")
    token = parts[0]
    if len(token) > max_token_bytes:
        # Refused before any decoding: size is the cheapest defence against expensive input.
        raise MalformedToken("The token is too large.", reason="oversize")
    return token


def _quote(value: str) -> str:
    # Header values must stay valid quoted-strings whatever we put in them.
    safe = "".join(c if c.isascii() and c.isprintable() else "?" for c in value)
    return '"' + safe.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=512)
def _render(
    status: int, error: str, description: str, realm: str, scope: str | None, retry_after: int
) -> ErrorResponse:
    body: dict[str, str] = {"error": error, "error_description": description}
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    if status == 503:
        headers.append((b"retry-after", str(retry_after).encode()))
        headers.append((b"cache-control", b"no-store"))
    else:
        if status == 401 and error == AuthenticationRequired.error:
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            challenge = f"Bearer realm={_quote(realm)}"
        else:
            challenge = f"Bearer error={_quote(error)}, error_description={_quote(description)}"
            if scope is not None:
                challenge += f", scope={_quote(scope)}"
                body["scope"] = scope
            challenge += f", realm={_quote(realm)}"
        headers.append((b"www-authenticate", challenge.encode("ascii")))
    payload = json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    headers.append((b"content-length", str(len(payload)).encode()))
    return status, tuple(headers), payload


def render_error(exc: AuthError, realm: str) -> ErrorResponse:
    """Status, headers and JSON body for *exc*; cached, since errors repeat."""
    scope = " ".join(exc.scopes) if isinstance(exc, InsufficientScope) else None
    retry_after = exc.retry_after if isinstance(exc, KeySetUnavailable) else 0
    return _render(exc.status_code, exc.error, exc.description, realm, scope, retry_after)


def log_rejection(log: logging.Logger, exc: AuthError) -> None:
    """Log why a request was refused: a reason code, never the token."""
    # ``jwtgate_reason`` lets structured (JSON) log handlers index the reason code.
    extra = {"jwtgate_reason": exc.reason}
    if isinstance(exc, KeySetUnavailable):
        # The fetch failure itself is logged once, by the key set.
        log.debug("Answering 503: %s", exc.description, extra=extra)
    else:
        log.debug("Rejected bearer token: reason=%s", exc.reason, extra=extra)
