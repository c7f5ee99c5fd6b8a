"""How many JWKS fetches jwtgate makes, counted by a real JWKS server on 127.0.0.1.

    .venv/bin/python bench/keyset_fetches.py

(a) 10,000 requests with random unknown kids (after startup);
(b) 200 concurrent first requests (cold cache);
(c) one hour of simulated time at default settings, one valid request per simulated
    second, with the lifespan refresher running (fake clock, real fetches).
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jwtgate import Authenticator, InvalidToken, KeySetUnavailable, RemoteKeySet
from jwtgate.testing import DevKey, Issuer

from servers import jwks_server

JWKS = "/.well-known/jwks.json"


async def unknown_kids(key: DevKey, spread: float = 0.0) -> int:
    """10,000 tokens, each with a fresh random kid; *spread* simulated seconds in all."""
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[key])
        server.documents[JWKS] = issuer.jwks()
        now = [1_800_000_000.0]
        auth = Authenticator(issuer.settings(jwks_url=server.url + JWKS), clock=lambda: now[0])
        await auth.prefetch()  # Startup: one fetch.
        token = issuer.mint(now=now[0], expires_in=7200)
        for _ in range(10_000):
            now[0] += spread / 10_000
            with contextlib.suppress(InvalidToken, KeySetUnavailable):
                await auth.authenticate(_with_kid(token))
        await auth.aclose()
        return server.total_hits(JWKS)


def _with_kid(token: str) -> str:
    import base64
    import json

    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(header + "=="))
    data["kid"] = uuid.uuid4().hex
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


async def concurrent_first(key: DevKey) -> tuple[int, int]:
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[key])
        server.documents[JWKS] = issuer.jwks()
        server.delay = 0.05  # A realistic round trip, so the requests really overlap.
        auth = Authenticator(issuer.settings(jwks_url=server.url + JWKS))
        token = issuer.mint()
        ok = 0

        async def one() -> None:
            nonlocal ok
            await auth.authenticate(token)
            ok += 1

        async with anyio.create_task_group() as tasks:
            for _ in range(200):
                tasks.start_soon(one)
        await auth.aclose()
        return server.total_hits(JWKS), ok


class Stop(Exception):
    pass


async def one_hour(key: DevKey) -> tuple[int, int]:
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[key])
        server.documents[JWKS] = issuer.jwks()
        now = [1_800_000_000.0]
        end = now[0] + 3600
        token = issuer.mint(now=now[0], expires_in=7200)
        served = 0

        async def sleep(delay: float) -> None:
            nonlocal served
            target = min(now[0] + delay, end)
            while now[0] < target:  # One request per simulated second while "sleeping".
                now[0] = min(now[0] + 1, target)
                await auth.authenticate(token)
                served += 1
            if now[0] >= end:
                raise Stop

        settings = issuer.settings(jwks_url=server.url + JWKS)  # Default cache settings.
        key_set = RemoteKeySet(settings, clock=lambda: now[0], sleep=sleep)
        auth = Authenticator(settings, key_set=key_set, clock=lambda: now[0])
        with contextlib.suppress(Stop):
            await key_set.keep_fresh()  # What the ASGI lifespan runs.
        await auth.aclose()
        return server.total_hits(JWKS), served


async def main() -> None:
    key = DevKey.generate("RS256", kid="k1")
    a = await unknown_kids(key)
    a2 = await unknown_kids(key, spread=60.0)
    b, ok = await concurrent_first(key)
    c, served = await one_hour(key)
    print(f"(a) 10,000 requests with random unknown kids: {a} fetch(es), startup fetch included")
    print(f"    the same spread over 60 simulated seconds: {a2} fetch(es) (one per 5 s cooldown)")
    print(f"(b) 200 concurrent first requests: {b} fetch(es), {ok} requests verified")
    print(
        f"(c) one simulated hour at defaults ({served} requests): {c} fetch(es), startup included"
    )


if __name__ == "__main__":
    anyio.run(main)
