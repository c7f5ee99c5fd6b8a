"""A million distinct tokens through the real ``Authenticator``: memory stays flat.

``.venv/bin/python -m bench.memory [N] [--once]``. HS256 tokens with a static secret
(minting and verifying a million RSA tokens would take ~20 CPU-minutes on this box):
the cache, its admission set and everything else on the path are the real ones. Each
token is presented twice in a row (so each is admitted and cached: the worst case for
memory), or once with ``--once`` (the admission set only). ``tracemalloc`` reports
the memory held after 10k, N/10, N/2 and N tokens, with the process peak.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc

import jwt

from jwtgate import Authenticator, Settings

SECRET = b"m" * 32


def main(n: int = 1_000_000, *, once: bool = False) -> None:
    settings = Settings(issuer="https://issuer.example", audience="api", hmac_secret=SECRET)
    auth = Authenticator(settings)
    cache = auth.token_cache
    assert cache is not None
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": "api", "iat": now, "exp": now + 3600, "scope": "a b"}
    checkpoints = {10_000, n // 10, n // 2, n}
    tracemalloc.start()
    for i in range(1, n + 1):
        token = jwt.encode({**claims, "sub": f"user-{i}"}, SECRET, algorithm="HS256")
        auth.authenticate_sync(token)
        if not once:
            auth.authenticate_sync(token)
        if i in checkpoints:
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            print(
                f"{i:>9} tokens: cache entries={len(cache)} ({cache.size_bytes / 2**20:.1f} MiB "
                f"of tokens) admission set={len(cache._seen)}  traced={current / 2**20:.1f} MiB "
                f"peak={peak / 2**20:.1f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 1_000_000, once="--once" in sys.argv)
