"""Over HTTP: uvicorn (one worker, subprocess, 127.0.0.1) loaded by ``wrk``.

The server is pinned to CPU 0 and wrk to CPU 1 (``taskset``, when there are two).
For each HTTP implementation available (h11, the pure-Python one ``pip install uvicorn``
brings; httptools + uvloop, what ``uvicorn[standard]`` brings, when installed), one
uvicorn per variant (``bench.http_app``), in two groups, each with its bare Starlette:

* one token repeated: bare Starlette, a second bare Starlette (an A/A control: what the
  method reads between two identical servers), jwtgate (a token-cache hit);
* a distinct token per request (a Lua script rotates more pre-minted tokens than the
  token cache admits, so none is ever served from it): bare Starlette, jwtgate, the
  RS256 signature check alone as a middleware (``bench.floors.VerifyOnlyMiddleware``:
  the most any RS256 verifier can reach here), and the alternatives of
  ``bench.alternatives``.

Every variant runs in every round, right after the others of its group, in an order
rotated from round to round; a variant's ratio is the median over rounds of its req/s
÷ its group's bare Starlette in the same round (the host's speed drifts over minutes).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_LUA = """tokens = {%s}
i = 0
request = function()
  i = i %% #tokens + 1
  return wrk.format("GET", "/", {["Authorization"] = "Bearer " .. tokens[i]})
end
"""
#: (label, uvicorn --http, --loop): h11 always; httptools + uvloop when installed.
IMPLEMENTATIONS = [("h11", "h11", "asyncio")]
if importlib.util.find_spec("httptools") and importlib.util.find_spec("uvloop"):
    IMPLEMENTATIONS.append(("httptools+uvloop", "httptools", "uvloop"))
BARE_ONE, BARE_DISTINCT = "bare Starlette, one token", "bare Starlette, distinct tokens"
GATE_REP, GATE_DIST = "jwtgate, repeated token", "jwtgate, distinct tokens"
AA_CONTROL = "bare Starlette again, one token (A/A control)"
CEILING = "RS256 signature check alone (ceiling), distinct tokens"
#: The groups: (distinct tokens?, [(variant, bench.http_app factory)]); the first is the base.
GROUPS = [
    (False, [(BARE_ONE, "bare"), (AA_CONTROL, "bare"), (GATE_REP, "gated")]),
    (True, [
        (BARE_DISTINCT, "bare"),
        (GATE_DIST, "gated"),
        (CEILING, "verify_only"),
        ("PyJWT+PyJWKClient, pure ASGI, distinct tokens", "pyjwk_asgi"),
        ("PyJWT+PyJWKClient, BaseHTTPMiddleware, distinct tokens", "pyjwk_base_http"),
        ("joserfc, pure ASGI, distinct tokens", "joserfc"),
    ]),
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pin(cpu: int) -> list[str]:
    """``taskset`` prefix keeping the server and wrk on a core each (less scheduler noise)."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)]
    return []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process *pid* so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _uvicorn(factory: str, http: str, loop: str, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    port = _free_port()
    cmd = [*_pin(0), sys.executable, "-m", "uvicorn", "--factory", f"bench.http_app:{factory}",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--http", http,
           "--loop", loop, "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn ({factory}, {http}) did not start") from None
                time.sleep(0.05)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wrk(port: int, seconds: float, token: str, lua: str | None) -> tuple[float, int]:
    cmd = [*_pin(1), "wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s"]
    cmd += ["-s", lua] if lua else ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(rate.group(1)), int(count.group(1))


Samples = dict[str, list[float]]


def run(issuer: Any, tokens: list[str], seconds: float, rounds: int) -> tuple[Samples, Samples]:
    """Per-round req/s and server CPU µs per request, per "<implementation>: <variant>".

    *issuer* is served on loopback. The CPU time is the uvicorn process's own (user +
    system, from ``/proc``).
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    env = {
        "JWTGATE_ISSUER": issuer.issuer,
        "JWTGATE_AUDIENCE": issuer.audience,
        "BENCH_JWKS_URL": issuer.jwks_url,
    }
    rates: Samples = {}
    cpu: Samples = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        lua = Path(tmp, "distinct.lua")
        lua.write_text(_LUA % ", ".join(f'"{t}"' for t in tokens))
        groups = []
        for label, http, loop in IMPLEMENTATIONS:
            for distinct, variants in GROUPS:
                script = str(lua) if distinct else None
                group = []
                for name, factory in variants:
                    port, pid = stack.enter_context(_uvicorn(factory, http, loop, env))
                    _wrk(port, 1, tokens[0], script)  # warm-up: key fetches, caches
                    group.append((f"{label}: {name}", port, pid, script))
                groups.append(group)
        for round_ in range(rounds):
            for group in groups:
                shift = round_ % len(group)
                for key, port, pid, script in group[shift:] + group[:shift]:
                    before = _cpu_seconds(pid)
                    rate, count = _wrk(port, seconds, tokens[0], script)
                    rates.setdefault(key, []).append(rate)
                    cpu.setdefault(key, []).append((_cpu_seconds(pid) - before) / count * 1e6)
    return rates, cpu


def medians(samples: Samples) -> dict[str, float]:
    """The median of each variant's rounds."""
    return {key: statistics.median(values) for key, values in samples.items()}


def versus(samples: Samples, key: str, base: str, *, higher_is_better: bool = True) -> float:
    """The median over rounds of *key* ÷ *base* within each round (runs seconds apart).

    For req/s pass the rates; for CPU per request pass ``higher_is_better=False`` and
    the ratio is inverted, so that both read as "throughput of *key* ÷ that of *base*".
    """
    pairs = zip(samples[key], samples[base], strict=True)
    return statistics.median(k / b if higher_is_better else b / k for k, b in pairs)


def ratios(samples: Samples, *, higher_is_better: bool = True) -> dict[str, float]:
    """Each variant against its group's bare Starlette (``versus``), by full key."""
    out = {}
    for label, _, _ in IMPLEMENTATIONS:
        for _, variants in GROUPS:
            base = f"{label}: {variants[0][0]}"
            for name, _ in variants[1:]:
                key = f"{label}: {name}"
                if key in samples and base in samples:
                    out[key] = versus(samples, key, base, higher_is_better=higher_is_better)
    return out
