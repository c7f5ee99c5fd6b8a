"""What users run: real-sized IdP tokens through the example app (``python -m bench.realistic``).

In-process, with a driver that behaves like uvicorn (``receive`` blocks until the response
is complete), interleaved rounds, median µs per request:

- **bare**: the example's routes (same order, same ``GET /items`` answer) on a plain
  Starlette app, no auth;
- **example app** (``examples/app.py``, imported with ``JWTGATE_*`` pointing at a loopback
  issuer): ``GET /items`` behind ``JWTGateMiddleware`` and ``@requires_scope("items:read")``,
  with one repeated token and with distinct tokens;
- **floor**: parse header and payload and verify the RS256 signature with ``cryptography``
  of the same tokens (no claims, no key lookup): what no verifier can go below;
- **alternatives** over the same bare app with distinct tokens.

Two token shapes: a typical IdP access token (about 800 characters, 11 claims:
``iss sub aud iat nbf exp jti azp scope email ver``) and a large Entra/Keycloak-like one
(about 1.5 kB: roles, groups, names, tenant and object ids).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import Authenticator
from jwtgate.testing import Issuer, serve

from . import alternatives, floors

X = "\N{MULTIPLICATION SIGN}"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def typical_claims(i: int) -> dict[str, Any]:
    """An Auth0/Okta-shaped access token's claims besides iss/aud/iat/exp (11 in all)."""
    return {
        "nbf": int(time.time()) - 5,
        "jti": str(uuid.uuid4()),
        "azp": "8fj2kDmQ0sLrT5vWx1yZ3aBcDeFgHiJk",
        "email": f"user{i}@example.com",
        "ver": "1.0",
    }


def large_claims(i: int) -> dict[str, Any]:
    """An Entra/Keycloak-shaped access token's claims (about 1.5 kB once signed)."""
    return {
        **typical_claims(i),
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "oid": str(uuid.uuid4()),
        "name": f"User Number {i}",
        "preferred_username": f"user{i}@contoso.onmicrosoft.com",
        "roles": ["Reader", "Contributor", "Items.Read", "Items.Write", "Reports.Read"],
        "groups": [str(uuid.UUID(int=g * 7919 + i)) for g in range(4)],
        "amr": ["pwd", "mfa"],
        "acr": "1",
        "auth_time": int(time.time()) - 60,
        "sid": str(uuid.uuid4()),
        "uti": "AbCdEfGhIjKlMnOpQrStUv",
    }


def mint(issuer: Issuer, shape: Callable[[int], dict[str, Any]], i: int) -> str:
    """One token of *shape* with scope ``items:read`` (and a few more, as IdPs grant)."""
    return issuer.mint(
        sub=f"auth0|{i:024d}",
        scopes=["openid", "profile", "email", "items:read", "items:write"],
        claims=shape(i),
    )


async def drive(app: Any, tokens: list[bytes], path: str = "/items") -> float:
    """µs per request through *app*, each request answered 200 (uvicorn-like receive)."""
    raw_path = path.encode()
    start = time.perf_counter()
    for token in tokens:
        done = asyncio.Event()
        sent: list[int] = []

        async def receive(done: asyncio.Event = done, first: list[bool] = [True]) -> Any:  # noqa: B006
            if first[0]:
                first[0] = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Any, done: asyncio.Event = done, sent: list[int] = sent) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            elif not message.get("more_body", False):
                done.set()

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": raw_path, "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"),
                        (b"accept", b"*/*"), (b"authorization", b"Bearer " + token)],
        }  # fmt: skip
        await app(scope, receive, send)
        if sent != [200]:
            raise AssertionError(f"expected 200, got {sent}")
    return (time.perf_counter() - start) / len(tokens) * 1e6


async def _items(request: Request) -> JSONResponse:
    return JSONResponse({"items": ["apple", "pear"]})


def bare_app() -> Starlette:
    """The example's routes, in its order, with no authentication: the baseline."""
    return Starlette(
        routes=[
            Route("/public", _items),
            Route("/me", _items),
            Route("/items", _items, methods=["GET"]),
            Route("/items", _items, methods=["POST"]),
            Route("/reports", _items),
            Route("/admin", _items),
            Route("/transfers", _items, methods=["POST"]),
        ]
    )


def example_app(issuer: Issuer) -> Any:
    """``examples/app.py``'s ``app``, configured from ``JWTGATE_*`` pointing at *issuer*."""
    os.environ.update(JWTGATE_ISSUER=issuer.issuer, JWTGATE_AUDIENCE=issuer.audience)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    sys.modules.pop("examples.app", None)
    return importlib.import_module("examples.app").app


async def _warm(app: Any) -> Any:
    """The app with its lifespan started (jwtgate fetches its keys there)."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def send(message: Any) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, send)
    )
    await started.wait()
    return task, queue


async def run(issuer: Issuer, n: int, rounds: int) -> dict[str, float]:
    bare = bare_app()
    example = example_app(issuer)
    lifespan, queue = await _warm(example)
    args = (issuer.jwks_url, issuer.issuer, issuer.audience)
    pure = alternatives.PyJWKClientMiddleware(bare, *args)
    jose = alternatives.JoseRFCMiddleware(bare, *args)
    await jose.load()
    tokens = {
        shape: [mint(issuer, fn, i).encode() for i in range(n)]
        for shape, fn in (("typical", typical_claims), ("large", large_claims))
    }
    await drive(example, tokens["typical"][:2])  # keys fetched (lifespan) before timing
    await drive(pure, tokens["typical"][:2])
    key = issuer.key_for("RS256").private_key
    variants: list[tuple[str, Callable[[], Awaitable[float] | float]]] = []
    for shape, toks in tokens.items():
        text = [t.decode() for t in toks]
        variants += [
            (
                f"{shape}: floor RS256 (verify+parse)",
                lambda text=text: floors.floor("RS256", key, text),
            ),
            (f"{shape}: bare", lambda toks=toks: drive(bare, toks)),
            (
                f"{shape}: example app, repeated token",
                lambda toks=toks: drive(example, [toks[0]] * len(toks)),
            ),
            (f"{shape}: example app, distinct tokens", lambda toks=toks: drive(example, toks)),
        ]
    typical = tokens["typical"]
    core = Authenticator(issuer.settings(token_cache_size=0))
    await core.prefetch()
    variants += [
        ("typical: PyJWT+PyJWKClient, pure ASGI", lambda: drive(pure, typical)),
        ("typical: joserfc, pure ASGI, keys preloaded", lambda: drive(jose, typical)),
        # What bounds the targets, measured in the same run:
        (f"typical: {CORE}", lambda: _each(core.authenticate_sync, [t.decode() for t in typical])),
        (f"typical: {DIGEST}", lambda: _each(_confirm, typical)),
    ]
    cache = _token_cache(example)
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, fn in variants:
            if "distinct" in name and cache is not None:
                cache.clear()  # every distinct token is verified, as in real traffic
            value = fn()
            results.setdefault(name, []).append(
                await value if asyncio.iscoroutine(value) else value
            )  # type: ignore[misc]
    await queue.put({"type": "lifespan.shutdown"})
    await lifespan
    return {name: statistics.median(v) for name, v in results.items()}


CORE = "bound: Authenticator.authenticate_sync alone (no HTTP, cache off)"
DIGEST = "bound: BLAKE2b of the token (what confirms a cache hit)"


def _confirm(token: bytes) -> bytes:
    return hashlib.blake2b(token).digest()


def _each(fn: Callable[[Any], Any], items: list[Any]) -> float:
    """µs per call of *fn* over *items*."""
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items) * 1e6


def _token_cache(app: Any) -> Any:
    """The example's token cache, found through Starlette's middleware stack."""
    node = app.build_middleware_stack() if app.middleware_stack is None else app.middleware_stack
    while node is not None:
        authenticator = getattr(node, "authenticator", None)
        if authenticator is not None:
            return authenticator.token_cache
        node = getattr(node, "app", None)
    return None


def report(table: dict[str, float]) -> str:
    lines = [
        "| variant | µs/request | overhead over bare (µs) | overhead ÷ RS256 floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, us in table.items():
        shape = name.split(":")[0]
        bare, floor = table[f"{shape}: bare"], table[f"{shape}: floor RS256 (verify+parse)"]
        if "floor" in name or name.endswith(": bare") or ": bound: " in name:
            lines.append(f"| {name} | {us:.1f} | | |")
        else:
            lines.append(f"| {name} | {us:.1f} | {us - bare:.1f} | {(us - bare) / floor:.2f}{X} |")
    lines += ["", "| target (RS256, realistic token, example app, one run) | measured | met |",
              "| --- | ---: | :---: |"]  # fmt: skip
    for target, value, met in targets(table):
        lines.append(f"| {target} | {value} | {'yes' if met else '**no**'} |")
    return "\n".join(lines)


def targets(table: dict[str, float]) -> list[tuple[str, str, bool]]:
    """Issue 17's in-process targets: (what, measured, met)."""
    rows = []
    for shape in ("typical", "large"):
        bare, floor = table[f"{shape}: bare"], table[f"{shape}: floor RS256 (verify+parse)"]
        distinct = table[f"{shape}: example app, distinct tokens"] - bare
        repeated = table[f"{shape}: example app, repeated token"] - bare
        rows += [
            (
                f"{shape}: distinct tokens, overhead ≤ 1.25{X} floor",
                f"{distinct / floor:.2f}{X}",
                distinct / floor <= 1.25,
            ),
            (
                f"{shape}: repeated token, overhead ≤ 3 µs (with requires_scope)",
                f"{repeated:.1f} µs",
                repeated <= 3,
            ),
        ]
    bare = table["typical: bare"]
    gate = table["typical: example app, distinct tokens"] - bare
    best = min(
        us - bare
        for name, us in table.items()
        if name.startswith("typical: ") and ("PyJWT" in name or "joserfc" in name)
    )
    rows.append(
        (
            f"typical: ≥ 1.5{X} better than the best alternative",
            f"{best / gate:.2f}{X}",
            best / gate >= 1.5,
        )
    )
    return rows


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.realistic")
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--tiny", action="store_true", help="smoke mode for the test suite")
    args = parser.parse_args(argv)
    n, rounds = (20, 1) if args.tiny else (300, 3) if args.quick else (2000, 7)
    with serve() as issuer:
        table = asyncio.run(run(issuer, n, rounds))
    print(report(table))
    return table


if __name__ == "__main__":
    main()
