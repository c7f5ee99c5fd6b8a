"""Scale with issuers: ``python -m bench.issuers``.

For 10, 100 and 1,000 trusted issuers (``JWTGATE_ISSUERS``-style, each with its own
JWKS URL, served in process by an ``httpx.MockTransport`` that counts fetches):

- start-up: building the ``Authenticator`` (seconds) and what it holds (traced memory);
- memory once every issuer's key set is loaded (one token of each verified);
- JWKS fetches over one simulated hour (a fake clock stepped 5 s at a time, the lazy
  scheduler's passes run at each step), with every issuer in use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import tracemalloc

import httpx

from jwtgate import Authenticator, IssuerConfig, KeySetUnavailable, Settings
from jwtgate.testing import DevKey, Issuer


def build(count: int, key: DevKey) -> tuple[Authenticator, list[int], list[float], list[Issuer]]:
    jwks = Issuer("https://x.test", keys=[key]).jwks()
    fetches, clock = [0], [1_800_000_000.0]

    def handler(request: httpx.Request) -> httpx.Response:
        fetches[0] += 1
        return httpx.Response(200, json=jwks, headers={"cache-control": "max-age=300"})

    configs = [
        IssuerConfig(
            issuer=f"https://t{i}.test", audience=("api",), jwks_url=f"https://t{i}.test/k"
        )
        for i in range(count)
    ]
    auth = Authenticator(
        Settings(issuers=configs), transport=httpx.MockTransport(handler), clock=lambda: clock[0]
    )
    issuers = [Issuer(c.issuer, audience="api", keys=[key]) for c in configs]
    return auth, fetches, clock, issuers


async def measure(count: int, key: DevKey) -> dict[str, float]:
    tracemalloc.start()
    start = time.perf_counter()
    auth, fetches, clock, issuers = build(count, key)
    built = time.perf_counter() - start
    at_start = tracemalloc.get_traced_memory()[0]
    for issuer in issuers:
        await auth.authenticate(issuer.mint(now=clock[0], expires_in=7200))
    loaded = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    first = fetches[0]
    group = auth.key_sources
    end = clock[0] + 3600
    while clock[0] < end:
        clock[0] += 5
        due, _ = group.due()
        for source in due:
            with contextlib.suppress(KeySetUnavailable):
                await source.refresh()
    await auth.aclose()
    return {
        "start s": built,
        "memory at start MB": at_start / 1e6,
        "memory, all loaded MB": loaded / 1e6,
        "fetches to load all": first,
        "fetches per hour": fetches[0] - first,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.issuers")
    parser.add_argument("--counts", default="10,100,1000")
    args = parser.parse_args(argv)
    key = DevKey.generate("RS256")
    columns = ["start s", "memory at start MB", "memory, all loaded MB", "fetches to load all",
               "fetches per hour"]  # fmt: skip
    print("| issuers | " + " | ".join(columns) + " |")
    print("| ---: |" + " ---: |" * len(columns))
    for count in (int(c) for c in args.counts.split(",")):
        row = asyncio.run(measure(count, key))
        cells = [f"{row[c]:.3f}" if c[-1:] == "s" else f"{row[c]:.1f}" for c in columns]
        print(f"| {count} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
