"""Over HTTP: uvicorn (one worker, subprocess, 127.0.0.1) loaded by ``wrk``.

The server is pinned to CPU 0 and wrk to CPU 1 (``taskset``, when there are two).
For each HTTP implementation available (h11, the pure-Python one ``pip install uvicorn``
brings; httptools + uvloop, what ``uvicorn[standard]`` brings, when installed), four
servers: bare Starlette and jwtgate (default settings, token cache on), each loaded with
one repeated token header and with a distinct token per request (a Lua script rotates
more pre-minted tokens than the token cache admits, so none is ever served from it).
jwtgate is compared with bare Starlette under the *same* requests. Every variant runs
in every round, next to the variant it is compared with; the median of the per-round
ratios counts.
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
#: (suffix, app factory, distinct tokens?)
VARIANTS = [
    ("bare Starlette, one token", "bare", False),
    ("jwtgate, repeated token", "gated", False),
    ("bare Starlette, distinct tokens", "bare", True),
    ("jwtgate, distinct tokens", "gated", True),
]


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

    *issuer* is served on loopback. Each jwtgate variant runs right next to the bare
    variant it is compared with, in alternating order from round to round, so that a
    ratio is taken between two runs seconds apart (the host's speed drifts over minutes).
    The CPU time is the uvicorn process's own (user + system, from ``/proc``).
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": issuer.audience}
    rates: Samples = {}
    cpu: Samples = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        lua = Path(tmp, "distinct.lua")
        lua.write_text(_LUA % ", ".join(f'"{t}"' for t in tokens))
        servers = []
        for label, http, loop in IMPLEMENTATIONS:
            for name, factory, distinct in VARIANTS:
                port, pid = stack.enter_context(_uvicorn(factory, http, loop, env))
                script = str(lua) if distinct else None
                _wrk(port, 1, tokens[0], script)  # warm-up: lifespan key fetch, caches
                servers.append((f"{label}: {name}", port, pid, script))
        pairs = [servers[i : i + 2] for i in range(0, len(servers), 2)]  # (bare, jwtgate)
        for round_ in range(rounds):
            for pair in pairs:
                for key, port, pid, script in pair if round_ % 2 == 0 else pair[::-1]:
                    before = _cpu_seconds(pid)
                    rate, count = _wrk(port, seconds, tokens[0], script)
                    rates.setdefault(key, []).append(rate)
                    cpu.setdefault(key, []).append((_cpu_seconds(pid) - before) / count * 1e6)
    return rates, cpu


def medians(samples: Samples) -> dict[str, float]:
    """The median of each variant's rounds."""
    return {key: statistics.median(values) for key, values in samples.items()}


def ratios(samples: Samples, *, higher_is_better: bool = True) -> list[tuple[str, float]]:
    """(label, jwtgate ÷ bare Starlette under the same requests) per implementation.

    The median over rounds of the ratio within each round (the two runs of a round are
    adjacent). For req/s pass the rates; for CPU per request pass
    ``higher_is_better=False`` and the ratio is inverted, so that both read as
    "jwtgate's share of bare throughput".
    """
    out = []
    for label, _, _ in IMPLEMENTATIONS:
        for kind, base in (("repeated token", "one token"), ("distinct tokens", "distinct tokens")):
            gate = samples.get(f"{label}: jwtgate, {kind}")
            bare = samples.get(f"{label}: bare Starlette, {base}")
            if gate and bare:
                per_round = [
                    g / b if higher_is_better else b / g for g, b in zip(gate, bare, strict=True)
                ]
                out.append((f"{label}, {kind}", statistics.median(per_round)))
    return out
