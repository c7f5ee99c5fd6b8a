"""The benchmark still runs (rows only; timings are never asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tiny_produces_every_row() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    tables = [
        [line.split("|")[1].strip() for line in block.splitlines()[2:]]
        for block in out.strip().split("\n\n")
    ]
    alternatives = [
        "PyJWT+PyJWKClient, pure ASGI",
        "PyJWT+PyJWKClient, BaseHTTPMiddleware",
        "joserfc, pure ASGI, keys preloaded",
    ]
    assert tables == [
        [
            "floor RS256 (verify+parse)",
            "floor PS256 (verify+parse)",
            "floor ES256 (verify+parse)",
            "floor EdDSA (verify+parse)",
            "bare Starlette",
            "jwtgate, repeated token",
            "jwtgate, distinct tokens",
            "jwtgate, distinct tokens, token cache off",
            *alternatives,
        ],
        ["bare Starlette", *alternatives],
        [
            "distinct tokens: overhead over bare ≤ 1.25\N{MULTIPLICATION SIGN} floor",
            "repeated token: overhead over bare ≤ 3 µs",
        ],
    ]


def test_alternatives_reject_what_they_should(monkeypatch: pytest.MonkeyPatch) -> None:
    """The alternatives are real checks (no token, wrong audience, expired: 401); the ceiling
    checks the signature."""
    import asyncio

    monkeypatch.syspath_prepend(str(ROOT))

    from bench import http_app
    from bench.__main__ import drive
    from jwtgate.testing import Issuer, serve

    async def status(app: object, token: str | None) -> int:
        seen: list[int] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                seen.append(int(message["status"]))  # type: ignore[call-overload]

        headers = [(b"authorization", b"Bearer " + token.encode())] if token else []
        scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/",
                 "query_string": b"", "root_path": "", "headers": headers,
                 "http_version": "1.1", "scheme": "http", "asgi": {"version": "3.0"}}  # fmt: skip
        await app(scope, receive, send)  # type: ignore[operator]
        return seen[0]

    async def check(issuer: object) -> list[int]:
        # The uvicorn factories of the HTTP benchmark, configured as it configures them.
        monkeypatch.setenv("BENCH_JWKS_URL", issuer.jwks_url)  # type: ignore[attr-defined]
        monkeypatch.setenv("JWTGATE_ISSUER", issuer.issuer)  # type: ignore[attr-defined]
        monkeypatch.setenv("JWTGATE_AUDIENCE", issuer.audience)  # type: ignore[attr-defined]
        apps = [http_app.pyjwk_asgi(), http_app.pyjwk_base_http(), http_app.joserfc()]
        good = issuer.mint()  # type: ignore[attr-defined]
        wrong_aud = issuer.mint(audience="someone-else")  # type: ignore[attr-defined]
        expired = issuer.mint(expires_in=-600)  # type: ignore[attr-defined]
        out = []
        for app in apps:
            await drive(app, [good])  # asserts 200
            out += [await status(app, t) for t in (None, wrong_aud, expired)]
        # The ceiling checks the signature and nothing else: it is a bound, not a verifier.
        floor = http_app.verify_only()
        await drive(floor, [good, expired, wrong_aud])  # asserts 200 for each
        head, payload, signature = good.split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        stranger = Issuer().mint()
        out += [await status(floor, t) for t in (None, f"{head}.{payload}.{flipped}", stranger)]
        return out

    with serve() as issuer:
        assert asyncio.run(check(issuer)) == [401] * 12


def test_http_ratios_pair_each_variant_with_its_groups_bare_in_the_same_round() -> None:
    from bench import http

    label = http.IMPLEMENTATIONS[0][0]
    rates = {
        f"{label}: {http.BARE_ONE}": [100.0, 200.0, 400.0],
        f"{label}: {http.GATE_REP}": [90.0, 100.0, 360.0],  # 0.9, 0.5, 0.9 of bare
        f"{label}: {http.BARE_DISTINCT}": [1000.0, 1000.0, 1000.0],
        f"{label}: {http.GATE_DIST}": [700.0, 800.0, 750.0],
        f"{label}: {http.CEILING}": [800.0, 900.0, 850.0],
    }
    ratios = http.ratios(rates)
    assert ratios == {
        f"{label}: {http.GATE_REP}": 0.9,
        f"{label}: {http.GATE_DIST}": 0.75,
        f"{label}: {http.CEILING}": 0.85,
    }
    gate, floor = f"{label}: {http.GATE_DIST}", f"{label}: {http.CEILING}"
    assert http.versus(rates, gate, floor) == pytest.approx(750 / 850)  # the median round
    cpu = {f"{label}: {http.BARE_ONE}": [50.0, 40.0], f"{label}: {http.GATE_REP}": [100.0, 50.0]}
    assert http.ratios(cpu, higher_is_better=False) == {f"{label}: {http.GATE_REP}": 0.65}


def test_bench_rules_tiny_produces_every_row() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.rules", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    rows = [line.split("|")[1].strip() for line in out.strip().splitlines()[2:]]
    assert rows == [
        "check_rules, 4 rules (per rule)",
        "verify ES256, no rules",
        "verify ES256, 4 rules",
        "Requirement any-of scopes (miss, 403)",
        "Requirement role",
        "Requirement step-up (acr only)",
    ]
