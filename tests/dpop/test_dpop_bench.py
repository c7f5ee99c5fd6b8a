"""The DPoP benchmark still runs and produces every row (timings are never asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    "bearer, repeated token",
    "bearer, token cache off",
    "DPoP, in-process replay store",
    "DPoP, Redis replay store",
    "part: proof checks (ES256)",
    "part: replay check, in-process",
    "part: replay check, Redis (loopback)",
]


@pytest.mark.integration
def test_dpop_bench_tiny_produces_every_row() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.dpop", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    rows = [line.split("|")[1].strip() for line in out.strip().splitlines()[2:]]
    assert rows == ROWS
