"""``jwtgate jwks URL``: fetch a JWKS (or discovery document) and say what jwtgate makes of it."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._config.settings import ASYMMETRIC_ALGORITHMS, is_loopback_host
from .._keys.jwk import UnusableKey, parse_jwk

__all__ = ["add_jwks"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
_CACHE_HEADERS = ("cache-control", "expires", "etag", "last-modified", "age")


def add_jwks(commands: Any) -> None:
    """Register the ``jwks`` command."""
    jwks = commands.add_parser(
        "jwks",
        help="fetch a JWKS and show its keys, algorithms, cache headers and problems",
        description="Fetch a JWKS URL (or an issuer / discovery URL: its jwks_uri is "
        "followed) and show each key as jwtgate sees it: usable or skipped, and why. "
        "Exit 0 when at least one key is usable and nothing is wrong, 1 when problems "
        "were found, 3 when the document could not be fetched.",
    )
    jwks.add_argument("url", help="JWKS URL, discovery document URL, or issuer URL")
    jwks.add_argument(
        "--algorithms",
        default=",".join(ASYMMETRIC_ALGORITHMS),
        help="the allowlist to judge keys against (default: all asymmetric)",
    )
    jwks.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    jwks.set_defaults(handler=run_jwks)


def _fetch(client: httpx.Client, url: str, problems: list[str]) -> tuple[httpx.Response, Any]:
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        problems.append(f"{url} is not https: jwtgate refuses it outside loopback")
    response = client.get(url, headers={"Accept": "application/json"})
    if response.is_redirect:
        problems.append(f"{url} redirects to {response.headers.get('location')!r}: "
                        "jwtgate does not follow redirects")  # fmt: skip
    response.raise_for_status()
    return response, response.json()


def run_jwks(args: argparse.Namespace) -> int:
    """Fetch, judge and print."""
    problems: list[str] = []
    url = args.url
    allowed = frozenset(a.strip() for a in args.algorithms.split(",") if a.strip())
    try:
        with httpx.Client(timeout=args.timeout, follow_redirects=False) as client:
            try:
                response, document = _fetch(client, url, problems)
            except (httpx.HTTPStatusError, ValueError):
                document = None
            if not (isinstance(document, dict) and ("keys" in document or "jwks_uri" in document)):
                # Not a JWKS nor discovery: take it as an issuer URL.
                url = url.rstrip("/") + "/.well-known/openid-configuration"
                response, document = _fetch(client, url, problems)
            if isinstance(document, dict) and isinstance(document.get("jwks_uri"), str):
                print(f"discovery: {response.url} -> jwks_uri {document['jwks_uri']}")
                url = document["jwks_uri"]
                response, document = _fetch(client, url, problems)
    except (httpx.HTTPError, ValueError) as exc:
        for problem in problems:
            print(f"problem: {problem}", file=sys.stderr)
        print(f"jwtgate jwks: cannot fetch {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(f"url: {response.url}  (HTTP {response.status_code}, {len(response.content)} bytes, "
          f"content-type {response.headers.get('content-type', '-')})")  # fmt: skip
    for name in _CACHE_HEADERS:
        if name in response.headers:
            print(f"{name}: {response.headers[name]}")
    if not any(h in response.headers for h in ("cache-control", "expires")):
        problems.append("no Cache-Control or Expires header (jwtgate caches by its own TTL anyway)")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        print('problem: not a JWKS (a JSON object with a "keys" list)')
        return EXIT_FAILED
    usable = 0
    for index, jwk in enumerate(keys):
        label = f"kid={jwk.get('kid')!r}" if isinstance(jwk, dict) else f"key #{index}"
        try:
            key = parse_jwk(jwk, allowed)
        except UnusableKey as exc:
            print(f"- {label}: SKIPPED: {exc}")
            continue
        usable += 1
        size = getattr(key.public_key, "key_size", None)
        detail = f"{size} bits" if size else jwk.get("crv", "")
        print(f"- {label}: usable, kty={key.kty} {detail}, algorithms "
              f"{', '.join(sorted(key.algorithms))}, use={jwk.get('use', '-')}")  # fmt: skip
        if "alg" not in jwk:
            problems.append(f"{label} has no alg: any algorithm fitting its type is accepted")
    kids = Counter(jwk.get("kid") for jwk in keys if isinstance(jwk, dict))
    problems += [f"kid {kid!r} is used by {n} keys" for kid, n in kids.items() if kid and n > 1]
    if None in kids and len(keys) > 1:
        problems.append("keys without kid: tokens without kid are refused when several keys fit")
    if usable == 0:
        problems.append("no usable key: every token would be rejected")
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{usable} usable key(s) of {len(keys)}" + ("" if problems else "; no problems"))
    return EXIT_FAILED if usable == 0 or any("not https" in p for p in problems) else EXIT_OK
