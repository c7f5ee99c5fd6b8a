"""Over HTTP: uvicorn (one worker, subprocess, 127.0.0.1) loaded by ``wrk``.

Variants: bare Starlette, jwtgate with one repeated token (token cache on), jwtgate
with distinct tokens (a Lua script rotates pre-minted tokens; the token cache is off
in that server so every request really verifies a signature).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _uvicorn(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", f"bench.http_app:{factory}",
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"uvicorn ({factory}) did not start")


def _wrk(port: int, seconds: float, token: str, lua: str | None) -> float:
    cmd = ["wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s"]
    if lua:
        cmd += ["-s", lua]
    else:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def run(issuer: Any, tokens: list[str], seconds: float) -> dict[str, float]:
    """req/s per variant; *issuer* is served on loopback (``jwtgate.testing.serve``)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": issuer.audience}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_LUA % ", ".join(f'"{t}"' for t in tokens))
    results: dict[str, float] = {}
    try:
        for name, factory, extra, lua in (
            ("HTTP bare Starlette", "bare", {}, None),
            ("HTTP jwtgate, repeated token", "gated", {}, None),
            ("HTTP jwtgate, distinct tokens", "gated", {"JWTGATE_TOKEN_CACHE_SIZE": "0"}, f.name),
        ):
            proc, port = _uvicorn(factory, {**env, **extra})
            try:
                _wrk(port, 1, tokens[0], lua)  # warm-up (lifespan prefetch, JIT-free but caches)
                results[name] = _wrk(port, seconds, tokens[0], lua)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    finally:
        os.unlink(f.name)
    return results
