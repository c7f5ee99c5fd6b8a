"""HTTP, framework-free: reading ``Authorization`` and writing RFC 6750 answers.

Shared by the ASGI middleware, the WSGI middleware and the scope decorators, so
that every edge answers the same bytes for the same error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .._dpop_exceptions import StateUnavailable, UseDPoPNonce
from .._exceptions import (
    AuthenticationRequired,
    AuthError,
    InvalidRequest,
    KeySetUnavailable,
    MalformedToken,
)

__all__ = [
    "Challenges",
    "ErrorResponse",
    "log_rejection",
    "parse_authorization",
    "parse_credentials",
    "render_error",
    "split_joined",
]

Headers = tuple[tuple[bytes, bytes], ...]
ErrorResponse = tuple[int, Headers, bytes]


def parse_authorization(values: Iterable[str], max_token_bytes: int) -> str | None:
    """The bearer token in the ``Authorization`` header values, or None when there is none.

    Another scheme (``Basic`` ...) counts as no bearer token. Raises ``InvalidRequest``
    for a header that is present but malformed, ``MalformedToken`` for an oversize token.
    """
    found = parse_credentials(values, max_token_bytes)
    return None if found is None else found[1]


def parse_credentials(
    values: Iterable[str], max_token_bytes: int, *, dpop: bool = False
) -> tuple[str, str] | None:
    """The scheme (``Bearer``, or ``DPoP`` when *dpop*) and token of ``Authorization``.

    None when there is no header or another scheme (``DPoP`` too, unless *dpop*); schemes
    match case-insensitively (RFC 7235). Raises like ``parse_authorization``.
    """
    values = list(values)
    if not values:
        return None
    if len(values) > 1:
        # Two credentials: picking one would let a proxy and the app disagree on which.
        raise InvalidRequest("The request has more than one Authorization header.")
    scheme, _, credentials = values[0].strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        scheme = "Bearer"
    elif scheme == "dpop" and dpop:
        scheme = "DPoP"
    else:
        return None
    parts = credentials.split()
    error: AuthError | None = None
    if not parts:
        error = InvalidRequest(f"The Authorization header has no {scheme} token.")
    elif len(parts) > 1:
        error = InvalidRequest("The Authorization header has extra parts after the token.")
    elif len(parts[0]) > max_token_bytes:
        # Refused before any decoding: size is the cheapest defence against expensive input.
        error = MalformedToken("The token is too large.", reason="oversize")
    if error is not None:
        if scheme == "DPoP":
            error.scheme = scheme  # Answered on the challenge of the scheme the request used.
        raise error
    return scheme, parts[0]


# A list element that opens a credential: a scheme alone, or a scheme, spaces and more
# (RFC 9110 §11.4); an auth-param is a name then "=" and does not match.
_CREDENTIAL = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]+[^=\s].*)?", re.DOTALL)


def split_joined(value: str | None) -> list[str]:
    """The ``Authorization`` header values a WSGI server joined into *value*, in order.

    WSGI servers join repeated headers with ``,`` (gunicorn, werkzeug) or ``", "`` into
    one environ value. A comma is never part of a bearer token (RFC 6750 §2.1 b64token),
    so a ``Bearer`` value with one is several headers; so is a value whose later list
    element opens another credential (``Basic x, Bearer t``) or is empty (``Bearer t, ``).
    A single credential whose auth-params are comma-separated (``Digest a="1", b="2"``)
    stays one value. Commas inside quoted strings never split. None gives ``[]``.
    """
    if value is None:
        return []
    if "," not in value:
        return [value]
    parts = _split_commas(value)
    bearer = value.lstrip().partition(" ")[0].lower() == "bearer"
    starts = [
        i
        for i, part in enumerate(parts)
        if i == 0 or bearer or not part.strip() or _CREDENTIAL.fullmatch(part.strip())
    ]
    if len(starts) == 1:
        return [value]
    ends = [*starts[1:], len(parts)]
    return [",".join(parts[a:b]).strip() for a, b in zip(starts, ends, strict=True)]


def _split_commas(value: str) -> list[str]:
    parts: list[str] = []
    start, quoted, escaped = 0, False, False
    for i, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def _quote(value: str) -> str:
    # Header values must stay valid quoted-strings whatever we put in them.
    safe = "".join(c if c.isascii() and c.isprintable() else "?" for c in value)
    return '"' + safe.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Challenges:
    """What every ``WWW-Authenticate`` challenge of one middleware says, whatever the error.

    *resource_metadata*: the RFC 9728 metadata URL, on every challenge when set.
    *dpop_algs*: the proof algorithms when DPoP is accepted (RFC 9449 §7.1), else None;
    *dpop_first*: the DPoP challenge comes first (DPoP required, or a DPoP request).
    *scheme*: the scheme the request used, whose challenge carries the error.
    """

    realm: str = "api"
    resource_metadata: str | None = None
    dpop_algs: tuple[str, ...] | None = None
    dpop_first: bool = False
    scheme: str = "Bearer"


@lru_cache(maxsize=512)
def _render(
    status: int,
    error: str,
    description: str,
    params: tuple[tuple[str, str], ...],
    error_scheme: str,
    challenges: Challenges,
    retry_after: int,
) -> ErrorResponse:
    body: dict[str, str] = {"error": error, "error_description": description}
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    if status == 503:
        headers.append((b"retry-after", str(retry_after).encode()))
        headers.append((b"cache-control", b"no-store"))
    else:
        # A 401 without credentials names the scopes only for RFC 9728 clients (MCP), which
        # choose what to ask for from it; plain RFC 6750 answers stay as they were.
        bare = error == AuthenticationRequired.error
        if bare and challenges.resource_metadata is None:
            params = ()
        body.update(params)
        schemes = ["Bearer"]
        if challenges.dpop_algs is not None:
            schemes.insert(0 if challenges.dpop_first else 1, "DPoP")
        for scheme in schemes:
            attributes: list[tuple[str, str]] = []
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            if scheme == error_scheme and not bare:
                attributes += [("error", error), ("error_description", description), *params]
            elif scheme == error_scheme:
                attributes += params
            if scheme == "DPoP":
                attributes.append(("algs", " ".join(challenges.dpop_algs or ())))
            if challenges.resource_metadata is not None:
                attributes.append(("resource_metadata", challenges.resource_metadata))
            attributes.append(("realm", challenges.realm))
            challenge = f"{scheme} " + ", ".join(f"{k}={_quote(v)}" for k, v in attributes)
            headers.append((b"www-authenticate", challenge.encode("ascii")))
    payload = json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    headers.append((b"content-length", str(len(payload)).encode()))
    return status, tuple(headers), payload


def render_error(
    exc: AuthError, challenges: Challenges | str, scheme: str | None = None
) -> ErrorResponse:
    """Status, headers and JSON body for *exc*; cached, since errors repeat.

    *challenges* (or just a realm) says what every challenge carries; *scheme* is the
    one the request used (``Bearer`` or ``DPoP``; default ``challenges.scheme``): its
    challenge carries the error, unless the error names its own (``exc.scheme``). Each
    scheme gets its own ``WWW-Authenticate`` field. ``UseDPoPNonce`` adds ``DPoP-Nonce``.
    """
    if isinstance(challenges, str):
        challenges = Challenges(realm=challenges)
    retry_after = exc.retry_after if isinstance(exc, (KeySetUnavailable, StateUnavailable)) else 0
    response = _render(
        exc.status_code,
        exc.error,
        exc.description,
        exc.challenge_params,
        exc.scheme or scheme or challenges.scheme,
        challenges,
        retry_after,
    )
    if isinstance(exc, UseDPoPNonce):
        # The nonce changes with its time slot: added after the cached rendering.
        status, headers, body = response
        response = status, (*headers, (b"dpop-nonce", exc.nonce.encode("ascii"))), body
    return response


def log_rejection(log: logging.Logger, exc: AuthError) -> None:
    """Log why a request was refused: a reason code, never the token."""
    # ``jwtgate_reason`` lets structured (JSON) log handlers index the reason code.
    extra = {"jwtgate_reason": exc.reason}
    if isinstance(exc, (KeySetUnavailable, StateUnavailable)):
        # The failure itself is logged once, by the key set or the state store.
        log.debug("Answering 503: %s", exc.description, extra=extra)
    else:
        log.debug("Rejected bearer token: reason=%s", exc.reason, extra=extra)
