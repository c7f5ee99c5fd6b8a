"""Opaque tokens (RFC 7662): what a cached introspected token costs, and how often jwtgate asks.

    .venv/bin/python -m bench.introspection [--quick]

(a) µs/request in-process (the ASGI middleware called in a loop over a bare Starlette
    app, interleaved rounds, median): a cached JWT versus a cached introspected token,
    both repeated, plus the WSGI face's ``authenticate_sync`` for both.
(b) Authorization-server calls per 10,000 requests of a realistic mix, counted by the
    test kit's introspection endpoint on a real loopback socket: 300 users (Zipf-like
    popularity), 15-minute tokens renewed a minute before expiry, 2 % junk tokens
    (each distinct), spread over one simulated hour (fake clock), at several maximum
    ages (and once in 5 simulated minutes); with ``--redis`` also four workers sharing a
    redis-server (``JWTGATE_REDIS_URL``).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from jwtgate import Authenticator, AuthError, JWTGateMiddleware
from jwtgate.testing import Issuer, serve

from .http_app import bare as bare_app

REQUESTS = 10_000
HOUR = 3600.0


async def drive(app: Any, token: str, n: int) -> float:
    header = [(b"authorization", b"Bearer " + token.encode())]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    start = time.perf_counter()
    for _ in range(n):
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
            "headers": header, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        await app(scope, receive, send)
    return (time.perf_counter() - start) / n * 1e6


def sync_loop(authenticator: Authenticator, token: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        authenticator.authenticate_sync(token)
    return (time.perf_counter() - start) / n * 1e6


async def cost(issuer: Issuer, n: int, rounds: int) -> dict[str, float]:
    settings = issuer.settings(introspection=True, introspection_cache_ttl=3600)
    gated = JWTGateMiddleware(bare_app(), settings)
    await gated.authenticator.prefetch()
    jwt, opaque = issuer.mint(expires_in=7200), issuer.mint_opaque(expires_in=7200)
    sync = Authenticator(settings)
    sync.prefetch_sync()
    for token in (jwt, opaque):  # Warm: the JWT is cached from its second use, the answer at once.
        await drive(gated, token, 3)
        sync_loop(sync, token, 3)
    variants = {
        "bare Starlette": lambda: drive(bare_app(), jwt, n),
        "ASGI, cached JWT (repeated)": lambda: drive(gated, jwt, n),
        "ASGI, cached introspected token (repeated)": lambda: drive(gated, opaque, n),
    }
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, run in variants.items():
            results.setdefault(name, []).append(await run())
        results.setdefault("sync face, cached JWT", []).append(sync_loop(sync, jwt, n))
        results.setdefault("sync face, cached introspected token", []).append(
            sync_loop(sync, opaque, n)
        )
    calls = issuer.opaque.calls
    await gated.authenticator.aclose()
    sync.close()
    assert calls == 2, calls  # One call per face; every timed request was a cache hit.
    return {name: statistics.median(values) for name, values in results.items()}


async def mix(
    issuer: Issuer, workers: list[Authenticator], clock: list[float], seed: int, span: float
) -> int:
    """Run the realistic mix through *workers* (round robin) over *span* simulated seconds;
    the server's call count."""
    rng = random.Random(seed)
    users = 300
    weights = [1 / (rank + 1) for rank in range(users)]
    tokens: list[tuple[str, float]] = []
    for _ in range(users):  # Tokens already part-way through their 15-minute life.
        issued = clock[0] - rng.uniform(0, 840)
        tokens.append((issuer.mint_opaque(expires_in=900, now=issued), issued + 900))
    before = issuer.opaque.calls
    for i in range(REQUESTS):
        clock[0] += span / REQUESTS
        if rng.random() < 0.02:
            token = secrets.token_urlsafe(24)  # Junk: a distinct unknown token each time.
        else:
            user = rng.choices(range(users), weights)[0]
            token, exp = tokens[user]
            if exp - clock[0] < 60:  # The client renews a minute before expiry.
                token = issuer.mint_opaque(expires_in=900, now=clock[0])
                tokens[user] = (token, clock[0] + 900)
        with contextlib.suppress(AuthError):
            await workers[i % len(workers)].authenticate(token)
    return issuer.opaque.calls - before


async def calls(issuer: Issuer, redis_url: str | None) -> dict[str, int]:
    table: dict[str, int] = {}
    rows: list[tuple[str, float, int, str | None, float]] = [
        ("max age 0 (ask every time)", 0, 1, None, HOUR),
        ("max age 60 s (default)", 60, 1, None, HOUR),
        ("max age 300 s", 300, 1, None, HOUR),
        ("max age 60 s, 4 workers, no sharing", 60, 4, None, HOUR),
        ("max age 60 s, busier: the same requests in 5 minutes", 60, 1, None, 300.0),
    ]
    if redis_url:
        rows.append(("max age 60 s, 4 workers sharing Redis", 60, 4, redis_url, HOUR))
    for name, max_age, count, shared, span in rows:
        clock: list[float] = [time.time()]
        settings = issuer.settings(
            introspection=True, introspection_cache_ttl=max_age, redis_url=shared
        )
        workers = [Authenticator(settings, clock=lambda c=clock: c[0]) for _ in range(count)]
        table[name] = await mix(issuer, workers, clock, seed=7, span=span)
        for worker in workers:
            await worker.aclose()
    return table


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


async def main(quick: bool, use_redis: bool) -> None:
    n, rounds = (500, 3) if quick else (5000, 7)
    with serve(audience="bench-api") as issuer:
        table = await cost(issuer, n, rounds)
        with redis_server() if use_redis else contextlib.nullcontext() as url:
            counted = await calls(issuer, url)
    bare = table["bare Starlette"]
    print("| request (in-process) | µs/request | over bare Starlette (µs) |")
    print("| --- | ---: | ---: |")
    for name, us in table.items():
        extra = f"{us - bare:.1f}" if name.startswith("ASGI") else ""
        print(f"| {name} | {us:.1f} | {extra} |")
    print()
    print(f"| {REQUESTS:,} requests (1 simulated hour unless said) | authorization-server calls |")
    print("| --- | ---: |")
    for name, count in counted.items():
        print(f"| {name} | {count:,} |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--redis", action="store_true", help="also 4 workers sharing Redis")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.redis)
