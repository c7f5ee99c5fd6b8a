"""Getting a JWKS over HTTP: one I/O-free plan of what to fetch, run by async and sync getters.

Fetch hygiene, for a document that is a trust anchor:

* only ``200`` counts; redirects are never followed (a redirect could move the trust
  anchor somewhere the configuration never named);
* connect, read and total timeouts (``http_connect_timeout``, ``http_timeout``,
  ``http_total_timeout``); a body over ``jwks_max_bytes`` (decoded) is refused;
* a document that is not JSON, or not a JWKS, is rejected as a whole, and so is one
  with no usable key; single unusable keys are skipped with a warning naming the ``kid``;
* discovery documents must name exactly the configured issuer (OIDC Discovery §4.3),
  and the ``jwks_uri`` they give must be https (or loopback).
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass

import anyio
import httpx

from .._config.settings import Settings, require_secure_url
from .._exceptions import ConfigurationError
from .jwk import KeySet
from .lifetime import lifetime

__all__ = [
    "FetchError", "Fetched", "IssuerMismatch", "Plan", "Response", "aget", "describe", "get",
    "plan", "timeout",
]  # fmt: skip

_HEADERS = {"Accept": "application/json, application/jwk-set+json"}
_KEPT_HEADERS = ("cache-control", "expires", "date", "age")


class FetchError(Exception):
    """A key set or discovery document could not be had (the message says why)."""


class IssuerMismatch(FetchError):
    """Discovery worked but names another issuer: a configuration error, not an outage.

    The commonest cause is a trailing ``/`` (Auth0's issuer ends with one, Okta's
    and Keycloak's do not): the fix is to configure exactly the document's issuer.
    """

    def __init__(self, configured: str, found: str, url: str) -> None:
        self.configured, self.found, self.url = configured, found, url
        super().__init__(
            f"configuration error: the issuer is {configured!r} but its discovery document "
            f"{url} names another issuer, {found!r}; set JWTGATE_ISSUER (or the issuers entry) "
            f"to exactly {found!r} if that is the issuer you trust"
        )


def describe(exc: httpx.HTTPError) -> str:
    """An httpx error in words ("connection refused"), its class name after."""
    name = type(exc).__name__
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ConnectionRefusedError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None or "refused" in str(exc).lower():
        return f"connection refused (is the server running, on this port?) ({name})"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out ({name})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({name})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc} ({name})"
    return f"{name}: {exc}" if str(exc) else name


@dataclass(frozen=True, slots=True)
class Response:
    """What a plan needs from an HTTP response."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Fetched:
    """The result of a plan: the keys, how long they may be used, and where they came from."""

    keys: KeySet
    lifetime: float
    url: str


# A plan yields the URL to GET next and is sent back the response; it returns what it fetched.
Plan = Generator[str, Response, Fetched]


def timeout(settings: Settings) -> httpx.Timeout:
    """The per-operation timeouts of a key fetch."""
    return httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)


def plan(settings: Settings, jwks_url: str | None, now: float) -> Plan:
    """What to fetch, in order: discovery (when *jwks_url* is not known yet), then the JWKS."""
    url = jwks_url if jwks_url is not None else (yield from _discover(settings))
    response = yield url
    try:
        keys = KeySet.from_json(response.content, settings.algorithms)
    except ValueError as exc:
        raise FetchError(f"{url}: {exc}") from None
    if not keys:
        raise FetchError(f"{url} holds no usable key ({'; '.join(keys.skipped) or 'empty'})")
    life = lifetime(
        response.headers,
        now,
        default=settings.jwks_cache_ttl,
        minimum=settings.jwks_min_ttl,
        maximum=settings.jwks_max_ttl,
    )
    return Fetched(keys, life, url)


def _discover(settings: Settings) -> Generator[str, Response, str]:
    problems = []
    mismatch: IssuerMismatch | None = None
    for url in settings.discovery_urls:
        try:
            response = yield url
        except FetchError as exc:
            problems.append(str(exc))
            continue
        try:
            document = json.loads(response.content)
        except (ValueError, RecursionError):
            problems.append(f"{url} is not JSON")
            continue
        if not isinstance(document, dict):
            problems.append(f"{url} is not a JSON object")
            continue
        if document.get("issuer") != settings.issuer:
            # OIDC Discovery §4.3: a mismatch means the document is not this issuer's.
            problems.append(f"{url} names another issuer")
            if isinstance(document.get("issuer"), str):
                mismatch = mismatch or IssuerMismatch(settings.issuer, document["issuer"], url)
            continue
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            problems.append(f"{url} has no jwks_uri")
            continue
        try:
            return require_secure_url(jwks_uri, "jwks_uri")
        except ConfigurationError as exc:
            problems.append(f"{url}: {exc}")
    if mismatch is not None:
        raise mismatch
    raise FetchError("discovery failed: " + "; ".join(problems))


async def aget(client: httpx.AsyncClient, url: str, settings: Settings) -> Response:
    """GET *url* under the fetch rules; raises ``FetchError``."""
    max_bytes = settings.jwks_max_bytes
    try:
        # A total deadline on top of httpx's per-operation timeouts stops a
        # server that drips its body one byte at a time.
        with anyio.fail_after(settings.http_total_timeout):
            async with client.stream("GET", url, headers=_HEADERS) as response:
                _check_status(response)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk  # Decoded bytes: the cap also stops compression bombs.
                    if len(body) > max_bytes:
                        raise FetchError(f"{url} sent more than {max_bytes} bytes")
    except TimeoutError:
        raise FetchError(f"{url} timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {describe(exc)}") from None
    return _response(response, body)


def get(client: httpx.Client, url: str, settings: Settings) -> Response:
    """The sync twin of ``aget``."""
    max_bytes = settings.jwks_max_bytes
    deadline = time.monotonic() + settings.http_total_timeout
    try:
        with client.stream("GET", url, headers=_HEADERS) as response:
            _check_status(response)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url} sent more than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} timed out")
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {describe(exc)}") from None
    return _response(response, body)


def _response(response: httpx.Response, body: bytearray) -> Response:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    return Response(response.status_code, bytes(body), headers)


def _check_status(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise FetchError(f"{response.url} answered HTTP {response.status_code}")
