"""Getting a JWKS over HTTP: one I/O-free plan of what to fetch, run by async and sync getters.

Fetch hygiene, for a document that is a trust anchor:

* only ``200`` counts; redirects are never followed (a redirect could move the trust
  anchor somewhere the configuration never named);
* connect and read timeouts (``http_connect_timeout``, ``http_timeout``) and one hard
  deadline over the whole fetch, discovery included (``http_total_timeout``), which a
  dripping or stalling server cannot stretch (``deadline``); a body over
  ``jwks_max_bytes`` (decoded) is refused;
* a document that is not JSON, or not a JWKS, is rejected as a whole, and so is one
  with no usable key; single unusable keys are skipped with a warning naming the ``kid``;
* discovery documents must name exactly the configured issuer (OIDC Discovery §4.3),
  and the ``jwks_uri`` they give must be https (or loopback).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from .._config.settings import Settings, require_secure_url
from .._exceptions import ConfigurationError
from .deadline import Deadline, FetchError, Limits, Response, asend, describe, send
from .jwk import KeySet
from .lifetime import lifetime

__all__ = [
    "Deadline", "FetchError", "Fetched", "IssuerMismatch", "Limits", "Plan", "Response",
    "aget", "describe", "get", "plan", "timeout",
]  # fmt: skip

_HEADERS = {"Accept": "application/json, application/jwk-set+json"}
_KEPT_HEADERS = ("cache-control", "expires", "date", "age")


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


async def aget(client: httpx.AsyncClient, url: str, deadline: Deadline) -> Response:
    """GET *url* under the fetch rules, by *deadline*; raises ``FetchError``."""
    request = client.build_request("GET", url, headers=_HEADERS)
    return _checked(await asend(client, request, deadline), url)


def get(client: httpx.Client, url: str, deadline: Deadline) -> Response:
    """The sync twin of ``aget``."""
    return _checked(send(client, client.build_request("GET", url, headers=_HEADERS), deadline), url)


def _checked(response: Response, url: str) -> Response:
    # Only 200 counts; 3xx included: redirects are never followed.
    if response.status_code != 200:
        raise FetchError(f"{url} answered HTTP {response.status_code}")
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    return Response(response.status_code, response.content, headers)
