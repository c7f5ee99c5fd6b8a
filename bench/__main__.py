"""In-process benchmark: ``.venv/bin/python -m bench [--quick|--tiny]``.

Measures, interleaved and repeated (median of rounds), µs per request for: the RS256
floor (raw ``cryptography`` verify + base64url/JSON parse), bare Starlette, and
jwtgate's middleware in front of it, with one token repeated and with a distinct
pre-minted token per request. Calls the ASGI app directly in a loop (no HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware
from jwtgate.testing import Issuer


def _b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def floor_rs256(issuer: Issuer, tokens: list[str]) -> float:
    pub = issuer.keys[0].private_key.public_key()
    start = time.perf_counter()
    for token in tokens:
        h, p, s = token.split(".")
        json.loads(_b64(h))
        json.loads(_b64(p))
        pub.verify(_b64(s), f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return (time.perf_counter() - start) / len(tokens) * 1e6


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def drive(app: Any, tokens: list[str]) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    start = time.perf_counter()
    for token in tokens:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
            "headers": [(b"authorization", b"Bearer " + token.encode())],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        await app(scope, receive, send)
    return (time.perf_counter() - start) / len(tokens) * 1e6


async def run(n: int, rounds: int) -> dict[str, float]:
    issuer = Issuer()
    bare = Starlette(routes=[Route("/", _ok)])
    gated = JWTGateMiddleware(bare, issuer.settings(), transport=issuer.transport())
    await gated.authenticator.prefetch()
    distinct = [issuer.mint(sub=f"u{i}") for i in range(n)]
    repeated = [distinct[0]] * n
    results: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved: every variant in every round
        for name, fn in (
            ("floor RS256 (verify+parse)", lambda: asyncio.sleep(0, floor_rs256(issuer, distinct))),
            ("bare Starlette", lambda: drive(bare, repeated)),
            ("jwtgate, repeated token", lambda: drive(gated, repeated)),
            ("jwtgate, distinct tokens", lambda: drive(gated, distinct)),
        ):
            if name.endswith("distinct tokens") and gated.authenticator.token_cache:
                gated.authenticator.token_cache.clear()
            results.setdefault(name, []).append(await fn())
    return {name: statistics.median(v) for name, v in results.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--tiny", action="store_true", help="smoke mode for the test suite")
    args = parser.parse_args(argv)
    n, rounds = (20, 1) if args.tiny else (300, 3) if args.quick else (2000, 7)
    table = asyncio.run(run(n, rounds))
    bare = table["bare Starlette"]
    floor = table["floor RS256 (verify+parse)"]
    print("| variant | µs/request | overhead over bare (µs) | overhead / floor |")
    print("| --- | ---: | ---: | ---: |")
    for name, us in table.items():
        over = us - bare if name.startswith("jwtgate") else float("nan")
        print(f"| {name} | {us:.1f} | {over:.1f} | {over / floor:.2f} |")
    return table


if __name__ == "__main__":
    main()
