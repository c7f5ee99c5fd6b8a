"""What DPoP costs over a bearer token: ``.venv/bin/python -m bench.dpop [--tiny] [--rounds N]``.

In-process (the ASGI app called directly in a loop, no HTTP), interleaved rounds, median
µs per request. One access token per client, reused as clients do; a fresh proof (ES256,
distinct ``jti``) per DPoP request, minted before timing. Rows:

- bearer, repeated token (the token cache's hit path) and bearer, token cache off;
- DPoP with the in-process replay store, and with a real Redis (a ``redis-server``
  started on a free loopback port when one is installed);
- the parts: the stateless proof checks (``ProofChecker.check``: parse, jwk memo,
  ES256 verify, claims, ``ath``), and one replay check (``remember``) in memory and on
  Redis (async client, one round trip on loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import time
from typing import Any

from jwtgate import JWTGateMiddleware, MemoryReplayStore
from jwtgate._verify.dpop import ProofChecker
from jwtgate.testing import DevKey, Issuer, dpop_proof

from .http_app import bare as bare_app

URL = "http://bench/"
ROWS = (
    "bearer, repeated token",
    "bearer, token cache off",
    "DPoP, in-process replay store",
    "DPoP, Redis replay store",
    "part: proof checks (ES256)",
    "part: replay check, in-process",
    "part: replay check, Redis (loopback)",
)


def scope_for(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip


async def drive(app: Any, requests: list[list[tuple[bytes, bytes]]]) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    start = time.perf_counter()
    for headers in requests:
        await app(scope_for(headers), receive, send)
    return (time.perf_counter() - start) / len(requests) * 1e6


class RedisProcess:
    """A throwaway redis-server on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"redis://127.0.0.1:{self.port}/0"
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


async def run(n: int, rounds: int, redis_url: str | None) -> dict[str, float]:
    issuer = Issuer("https://issuer.bench", audience="bench", keys=[DevKey.generate("ES256")])
    key = DevKey.generate("ES256")
    bound = issuer.mint(dpop_key=key)
    bearer = issuer.mint()
    bare = bare_app()

    def gate(**overrides: Any) -> JWTGateMiddleware:
        return JWTGateMiddleware(bare, issuer.settings(**overrides), transport=issuer.transport())

    gated, uncached, local = gate(), gate(token_cache_size=0), gate()
    remote = gate(redis_url=redis_url) if redis_url else None
    for app in (gated, uncached, local, remote):
        if app is not None:
            await app.authenticator.prefetch()
    bearer_requests = [[(b"authorization", b"Bearer " + bearer.encode())]] * n
    auth = (b"authorization", b"DPoP " + bound.encode())

    def proofs() -> list[str]:  # Fresh proofs per round: each may be used once.
        return [dpop_proof(key, "GET", URL, access_token=bound) for _ in range(n)]

    checker = ProofChecker(("ES256",), max_age=60, leeway=30)
    memory = MemoryReplayStore(10 * n * rounds)
    store = remote.dpop.store if remote is not None and remote.dpop is not None else None

    async def dpop(app: Any) -> float:
        requests = [[auth, (b"dpop", p.encode())] for p in proofs()]
        return await drive(app, requests)

    async def checks() -> float:
        batch = proofs()
        start = time.perf_counter()
        for proof in batch:
            checker.check(proof, method="GET", url=URL, access_token=bound, now=time.time())
        return (time.perf_counter() - start) / n * 1e6

    async def remember(target: Any) -> float:
        keys = [f"{time.perf_counter_ns()}-{i}" for i in range(n)]
        start = time.perf_counter()
        for k in keys:
            await target.remember(k, 90)
        return (time.perf_counter() - start) / n * 1e6

    variants: list[tuple[str, Any]] = [
        (ROWS[0], lambda: drive(gated, bearer_requests)),
        (ROWS[1], lambda: drive(uncached, bearer_requests)),
        (ROWS[2], lambda: dpop(local)),
        (ROWS[4], checks),
        (ROWS[5], lambda: remember(memory)),
    ]
    if remote is not None:
        variants += [(ROWS[3], lambda: dpop(remote)), (ROWS[6], lambda: remember(store))]
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, fn in variants:
            results.setdefault(name, []).append(await fn())
    if remote is not None and remote.dpop is not None:
        await remote.dpop.aclose()
    return {name: statistics.median(results[name]) for name in ROWS if name in results}


def report(table: dict[str, float]) -> str:
    base = table[ROWS[0]]
    lines = ["| variant | µs/request | over bearer, repeated token (µs) |", "| --- | ---: | ---: |"]
    for name, us in table.items():
        over = "" if name.startswith("part") or name == ROWS[0] else f"{us - base:.1f}"
        lines.append(f"| {name} | {us:.1f} | {over} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few requests (CI: rows only)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("-n", type=int, default=2000, help="requests per variant per round")
    args = parser.parse_args()
    n, rounds = (20, 1) if args.tiny else (args.n, args.rounds)
    server = RedisProcess() if shutil.which("redis-server") else None
    try:
        table = asyncio.run(run(n, rounds, server.url if server else None))
    finally:
        if server is not None:
            server.stop()
    print(report(table))


if __name__ == "__main__":
    main()
