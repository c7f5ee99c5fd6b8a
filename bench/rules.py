"""Claim rules and requirements: what they cost. ``.venv/bin/python -m bench.rules [--tiny]``.

In-process, no HTTP, median of interleaved rounds, µs per call:

* ``check_rules`` per rule (a string rule, a list rule, a pointer rule, a number rule),
  on claims that keep them (the common case: every rule is walked);
* ``TokenVerifier.verify_with_key`` (ES256) without rules and with those four rules:
  the difference is what rules add to an uncached verification (a cache hit adds
  nothing: the rules ran when the token was admitted);
* ``Requirement.evaluate`` for any-of scopes, a role, and step-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from jwtgate import KeySet, Requirement, Settings, TokenVerifier
from jwtgate._verify.rules import check_rules, compile_rules
from jwtgate.testing import DevKey, Issuer

RULES = {"token_use": "access", "tid": ["t1", "t2", "t3"], "/ext/tier": "gold", "n": 2}
CLAIMS = {"token_use": "access", "tid": "t2", "ext": {"tier": "gold"}, "n": 2}


def _time(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def measure(n: int, rounds: int) -> dict[str, float]:
    """Median µs per call of each row."""
    key = DevKey.generate("ES256", kid="k")
    issuer = Issuer("https://issuer.bench", audience="api", keys=[key])
    token = issuer.mint(claims={**CLAIMS, "roles": ["admin"], "acr": "mfa"})
    base = {"issuer": issuer.issuer, "audience": ["api"], "jwks_url": issuer.jwks_url}
    plain = TokenVerifier(Settings(**base))
    ruled = TokenVerifier(Settings(**base, claim_rules=RULES))
    unverified = plain.parse(token)
    jwk = KeySet.from_dict(issuer.jwks(), ["ES256"]).find("k", "ES256")
    now = time.time()
    verified = plain.verify_with_key(unverified, jwk, now)
    rules = compile_rules(Settings(**base, claim_rules=RULES).claim_rules)
    requirements = {
        "Requirement any-of scopes (miss, 403)": Requirement.of(any_scopes=["a", "b"]),
        "Requirement role": Requirement.of(roles=["admin"]),
        "Requirement step-up (acr only)": Requirement.of(acr_values="mfa"),
    }
    rows: dict[str, Callable[[], object]] = {
        "check_rules, 4 rules (per rule)": lambda: check_rules(CLAIMS, rules),
        "verify ES256, no rules": lambda: plain.verify_with_key(unverified, jwk, now),
        "verify ES256, 4 rules": lambda: ruled.verify_with_key(unverified, jwk, now),
        **{name: (lambda r=r: r.evaluate(verified)) for name, r in requirements.items()},
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, fn in rows.items():
            value = _time(fn, n)
            samples[name].append(value / 4 if "per rule" in name else value)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="a smoke run (rows only)")
    args = parser.parse_args()
    n, rounds = (200, 1) if args.tiny else (3000, 7)
    results = measure(n, rounds)
    print("| row | µs per call |\n| --- | ---: |")
    for name, value in results.items():
        print(f"| {name} | {value:.3f} |")


if __name__ == "__main__":
    main()
