"""A million distinct tokens through the verified-token cache: memory stays flat.

``.venv/bin/python -m bench.memory [N]``. Uses synthetic ``VerifiedToken`` entries
(minting and verifying 1M RSA tokens would take ~20 CPU-minutes on this box); the
cache sees exactly what it would see after each successful verification.
"""

from __future__ import annotations

import sys
import tracemalloc
from types import MappingProxyType

from jwtgate._cache import TokenCache
from jwtgate._verifier import VerifiedToken


def main(n: int = 1_000_000) -> None:
    cache = TokenCache(4096, leeway=60)
    keys = object()
    header = MappingProxyType({"alg": "RS256", "kid": "k1"})
    tracemalloc.start()
    for i in range(n):
        token = f"eyJhbGciOiJSUzI1NiJ9.{i:012d}.".ljust(800, "s")
        claims = {"iss": "https://issuer", "sub": f"user-{i}", "exp": 2e9, "scope": "a b"}
        cache.put(token, VerifiedToken(MappingProxyType(claims), header, frozenset()), keys)
        if i + 1 in (10_000, n // 10, n // 2, n):
            current, peak = tracemalloc.get_traced_memory()
            print(
                f"{i + 1:>9} tokens: entries={len(cache)} traced={current / 2**20:.1f} MiB peak={peak / 2**20:.1f} MiB"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
