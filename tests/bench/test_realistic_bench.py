"""The realistic benchmark runs and measures what it says (timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_realistic_bench_tiny_produces_every_row() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.realistic", "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")]
    for shape in ("typical", "large"):
        for variant in ("floor RS256 (verify+parse)", "bare", "example app, repeated token",
                        "example app, distinct tokens"):  # fmt: skip
            assert f"{shape}: {variant}" in rows
    assert any(row.startswith("typical: ≥ 1.5") for row in rows)


@pytest.mark.parametrize("shape", ["typical_claims", "large_claims"])
@pytest.mark.anyio
async def test_token_shapes_have_the_size_of_real_idp_tokens(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import realistic
    from jwtgate import Authenticator
    from jwtgate.testing import Issuer

    issuer = Issuer("https://tenant.example.com/", audience="https://api.example.com")
    token = realistic.mint(issuer, getattr(realistic, shape), 1)
    verified = await Authenticator(issuer.settings(), transport=issuer.transport()).authenticate(
        token
    )
    assert verified.has_scopes("items:read")
    size = len(token)
    if shape == "typical_claims":
        assert 700 <= size <= 1000, size
    else:
        assert 1350 <= size <= 1700, size
