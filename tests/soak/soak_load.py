"""The soak's parts: the fault timeline, the mixed load, and the judge of every answer.

The JWKS server (``faults.FaultServer``, discovery included) goes through the
``TIMELINE`` while client threads send a fixed mix of requests at a fixed pace. Each
answer carries the cache state of the worker that gave it (``soak_app``), so
``judge`` can hold it to the rules: duplicate headers 400, malformed 401, a known key
inside its stale window 200 (and never 401 or 400 for a valid token), never 500.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from jwtgate.testing import DevKey, Issuer

from faults import FaultServer

# Short lifetimes so that every state (fresh, stale, unusable, recovered) comes round
# within a minute. The deadline is the whole-fetch limit every request is held to.
TTL, COOLDOWN, MAX_STALE, DEADLINE, WAIT = 2.0, 1.0, 5.0, 1.5, 0.5
ENV = {
    "JWTGATE_JWKS_CACHE_TTL": str(TTL),
    "JWTGATE_JWKS_MIN_TTL": "1",
    "JWTGATE_JWKS_REFETCH_COOLDOWN": str(COOLDOWN),
    "JWTGATE_JWKS_MAX_STALE": str(MAX_STALE),
    "JWTGATE_JWKS_NEGATIVE_TTL": "1",
    "JWTGATE_HTTP_TIMEOUT": "0.5",
    "JWTGATE_HTTP_CONNECT_TIMEOUT": "0.5",
    "JWTGATE_HTTP_TOTAL_TIMEOUT": str(DEADLINE),
    "JWTGATE_JWKS_FETCH_WAIT": str(WAIT),
}
AUDIENCE = "soak-api"

# (phase, server modes, one after the other within the phase, seconds)
TIMELINE: list[tuple[str, tuple[str, ...], float]] = [
    ("warm", ("ok",), 4.0),
    ("500", ("status500",), 3.0),
    ("ok-1", ("ok",), 2.5),
    ("hang", ("hang", "stall"), 3.0),
    ("ok-2", ("ok",), 2.5),
    ("drip", ("header_drip", "body_drip", "trickle"), 3.0),
    ("ok-3", ("ok",), 2.5),
    ("garbage", ("garbage",), 3.0),
    ("ok-4", ("ok",), 2.5),
    ("refused", ("refused",), 3.0),
    ("rotation", ("ok",), 4.0),
    ("outage", ("hang", "refused"), MAX_STALE + TTL + 2.0),
    ("recovery", ("ok",), 4.0),
]
KINDS = [
    "valid", "valid", "valid", "rotated", "expired", "wrong_aud",
    "unknown_kid", "malformed", "duplicate", "none",
]  # fmt: skip
DUPLICATES = [
    ["Bearer {t}", "Bearer {t}"],
    ["Basic dXNlcjpwYXNz", "Bearer {t}"],
    ["Bearer {t}", ""],
    ["", "Bearer {t}"],
]


class Tokens:
    """Tokens of every kind, minted once; ``all`` for the no-token-in-logs check."""

    def __init__(self, url: str) -> None:
        self.old, self.new = (
            DevKey.generate("RS256", kid="soak-1"),
            DevKey.generate("RS256", kid="soak-2"),
        )
        ghost = DevKey.generate("RS256", kid="ghost")
        issuer = Issuer(url, audience=AUDIENCE, keys=[self.old])
        self.published = [self.old]
        self.by_kind: dict[str, list[str]] = {
            "valid": [issuer.mint(sub=f"u{i}") for i in range(40)],
            "rotated": [issuer.mint(sub=f"r{i}", key=self.new) for i in range(20)],
            "expired": [issuer.mint(expires_in=-600) for _ in range(5)],
            "wrong_aud": [issuer.mint(audience="someone-else") for _ in range(5)],
            "unknown_kid": [issuer.mint(key=ghost, kid=f"ghost-{i}") for i in range(20)],
        }
        self.all = [t for tokens in self.by_kind.values() for t in tokens]

    def jwks(self) -> dict[str, object]:
        return {"keys": [key.public_jwk for key in self.published]}


@dataclass
class Result:
    """One request and its answer."""

    phase: str
    kind: str
    latency: float
    status: int | None  # None: no answer (a client timeout or a dropped connection)
    tags: dict[str, str] = field(default_factory=dict)


class Soak:
    """Drives the timeline and the load against *base*; ``run()`` returns the results."""

    def __init__(self, base: str, server: FaultServer, tokens: Tokens, *, clients: int = 6,
                 rate: float = 14.0, cap: int = 8000) -> None:  # fmt: skip
        self.base, self.server, self.tokens = base, server, tokens
        self.clients, self.period, self.cap = clients, 1.0 / rate, cap
        self.phase = "warm"
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.duration = 0.0

    def run(self) -> list[Result]:
        threads = [threading.Thread(target=self._client, args=(i,)) for i in range(self.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            for phase, modes, seconds in TIMELINE:
                self.phase = phase
                if phase == "rotation":
                    self.tokens.published = [self.tokens.new, self.tokens.old]
                for mode in modes:
                    self.server.set_mode(mode)
                    time.sleep(seconds / len(modes))
        finally:
            self._done.set()
            for thread in threads:
                thread.join(timeout=30)
            self.server.set_mode("ok")
        self.duration = time.monotonic() - started
        return self.results

    def _client(self, number: int) -> None:
        # A connection per request: a multi-worker server spreads them over its workers.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base, timeout=15, limits=fresh) as client:
            due, i = time.monotonic(), number
            while not self._done.is_set() and len(self.results) < self.cap:
                kind = KINDS[i % len(KINDS)]
                if kind == "rotated" and self.phase in _BEFORE_ROTATION:
                    kind = "valid"
                phase, headers = self.phase, self._headers(kind, i)
                started = time.monotonic()
                try:
                    response = client.get("/me", headers=headers)
                    status, tags = response.status_code, _tags(response.headers)
                except httpx.HTTPError:
                    status, tags = None, {}
                result = Result(phase, kind, time.monotonic() - started, status, tags)
                with self._lock:
                    self.results.append(result)
                i += self.clients
                due += self.period
                time.sleep(max(due - time.monotonic(), 0.0))

    def _headers(self, kind: str, i: int) -> list[tuple[str, str]]:
        if kind == "none":
            return []
        if kind == "malformed":
            return [("Authorization", "Bearer not.a.jwt")]
        if kind == "duplicate":
            token = self.tokens.by_kind["valid"][i % 40]
            values = DUPLICATES[i % len(DUPLICATES)]
            return [("Authorization", v.replace("{t}", token)) for v in values]
        tokens = self.tokens.by_kind[kind]
        return [("Authorization", f"Bearer {tokens[i % len(tokens)]}")]


_BEFORE_ROTATION = {
    phase for phase, _, _ in TIMELINE[: [p for p, _, _ in TIMELINE].index("rotation")]
}


def _tags(headers: httpx.Headers) -> dict[str, str]:
    return {k[len("x-soak-") :]: v for k, v in headers.items() if k.startswith("x-soak-")}


def usable(result: Result, kid: str) -> bool:
    """True when the worker's key lookup for *result* saw *kid* in a set inside its stale window.

    The set read on arrival and again as the answer started is the same one (same end
    of window), and the window was still open at the second reading: the lookup, in
    between, saw it open. A machine that stalls the worker cannot fool this.
    """
    tags = result.tags
    until = tags.get("usable-until")
    if not until or until != tags.get("end-usable-until"):
        return False  # Nothing cached yet, or another set was installed meanwhile.
    if kid not in tags.get("kids", "").split(","):
        return False
    return float(until) - float(tags["end-now"]) > 0.01


def judge(result: Result) -> str | None:
    """Why *result* breaks the rules, or None."""
    kind, status = result.kind, result.status
    if status is None or (status >= 500 and status != 503):
        return f"{kind} in {result.phase}: {status or 'no answer'}"
    fixed = {"duplicate": 400, "malformed": 401, "none": 401}
    if kind in fixed:
        return None if status == fixed[kind] else f"{kind}: {status}"
    if kind in ("valid", "rotated"):
        kid = "soak-1" if kind == "valid" else "soak-2"
        if usable(result, kid):
            return None if status == 200 else f"{kind} refused inside the stale window: {status}"
        allowed = {200, 503} if kind == "valid" else {200, 401, 503}
        return None if status in allowed else f"{kind} outside the stale window: {status}"
    if kind in ("expired", "wrong_aud") and usable(result, "soak-1"):
        return None if status == 401 else f"{kind} with the key at hand: {status}"
    return None if status in (401, 503) else f"{kind}: {status}"


def must_succeed(results: Sequence[Result]) -> int:
    """How many valid requests the stale-window rule held to 200."""
    return sum(1 for r in results if r.kind == "valid" and usable(r, "soak-1"))


def p99(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def summary(
    name: str, soak: Soak, results: Sequence[Result], per_worker: Callable[[], dict[str, int]]
) -> str:
    """The soak's figures for one server, one line per phase."""
    fetches = sum(per_worker().values())
    lines = [
        f"{name}: {len(results)} requests in {soak.duration:.0f} s, longest "
        f"{max(r.latency for r in results):.2f} s, {fetches} fetches by "
        f"{len(per_worker())} workers ({fetches / soak.duration * 60:.0f}/min; "
        f"{soak.server.count() / soak.duration * 60:.0f} GETs/min at the issuer)"
    ]
    for phase, _, _ in TIMELINE:
        latencies = [r.latency for r in results if r.phase == phase]
        statuses = sorted({r.status for r in results if r.phase == phase}, key=str)
        lines.append(
            f"  {phase:9} n={len(latencies):5} p99={p99(latencies):.3f} s "
            f"max={max(latencies, default=0):.3f} s statuses={statuses}"
        )
    return "\n".join(lines)
