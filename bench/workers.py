"""Scale with workers: ``python -m bench.workers [--seconds S]``.

Serves the example apps the way operators do, against a development issuer on loopback
that records every JWKS and discovery request (time and path):

- throughput (``wrk -t1 -c32``, one repeated realistic token, ``GET /items``) of
  ``uvicorn --workers 1`` against ``--workers 2`` (``examples.app``) and of
  ``gunicorn -w 1`` against ``-w 2`` (``examples.flask_app``, 8 threads per worker);
- key fetches on a cold start of each, and over a refresh window with a short key-set
  lifetime (``JWTGATE_JWKS_MAX_TTL``), with the gaps between fetches (jitter between
  workers: no synchronized storm).

Per worker and hour at default settings a key set lives ``max-age`` (the dev issuer sends
300 s) and is refreshed at 75-90 % of it: about 13-16 fetches per worker and hour; N
workers on M instances make N x M times that, spread by each worker's own jitter.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from jwtgate.testing import Issuer

from .realistic import mint, typical_claims

ROOT = Path(__file__).resolve().parent.parent


class RecordingIssuer:
    """A development issuer on 127.0.0.1 that records (time, path) of each request."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str]] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    outer.log.append((time.monotonic(), self.path))
                body = outer.issuer.documents().get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("content-type", "application/json")
                self.send_header("cache-control", "max-age=300")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = Issuer(f"http://127.0.0.1:{self.httpd.server_address[1]}", audience="api")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def jwks_fetches(self, since: float = 0.0) -> list[float]:
        return [t for t, path in self.log if path.endswith("jwks.json") and t >= since]


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(kind: str, workers: int, env: dict[str, str]) -> Iterator[str]:
    port = _port()
    if kind.startswith("uvicorn"):
        target = (
            ["--factory", "bench.realistic:bare_app"] if "bare" in kind else ["examples.app:app"]
        )
        cmd = [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning",
               "--no-access-log"]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "gunicorn", "examples.flask_app:app", "--bind",
               f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "8",
               "--log-level", "warning"]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**clean, **env}, stdout=output, stderr=output)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(base + "/public", timeout=1)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        raise RuntimeError(output.read().decode()) from None
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def wrk(base: str, token: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}",
         f"{base}/items"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match is not None, out
    return float(match.group(1))


def run(seconds: int, window: int) -> list[str]:
    recorder = RecordingIssuer()
    issuer = recorder.issuer
    token = mint(issuer, typical_claims, 1)
    env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": issuer.audience}
    rows = ["| server | workers | req/s | ÷ 1 worker | JWKS fetches on a cold start |",
            "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for kind in ("uvicorn, bare Starlette (no jwtgate)", "uvicorn", "gunicorn"):
        single = 0.0
        for workers in (1, 2):
            start = time.monotonic()
            with server(kind, workers, env) as base:
                for _ in range(workers * 2):  # every worker sees a request before timing
                    httpx.get(base + "/items", headers={"Authorization": f"Bearer {token}"})
                cold = len(recorder.jwks_fetches(start))
                rate = wrk(base, token, seconds)
            single = single or rate
            rows.append(f"| {kind} | {workers} | {rate:.0f} | {rate / single:.2f} | {cold} |")
    # Refresh storms: 2 workers, a 20 s key-set lifetime, *window* seconds of light load.
    short = {**env, "JWTGATE_JWKS_MAX_TTL": "20", "JWTGATE_JWKS_MIN_TTL": "20"}
    rows += ["", f"| server, 2 workers, key sets living 20 s, {window} s | JWKS fetches | "
             "smallest gap between two fetches (s) | median gap (s) |",
             "| --- | ---: | ---: | ---: |"]  # fmt: skip
    for kind in ("uvicorn", "gunicorn"):
        with server(kind, 2, short) as base:
            start = time.monotonic()
            end = start + window
            while time.monotonic() < end:
                httpx.get(base + "/items", headers={"Authorization": f"Bearer {token}"})
                time.sleep(0.05)
        times = sorted(recorder.jwks_fetches(start))
        gaps = [b - a for a, b in itertools.pairwise(times)] or [0.0]
        rows.append(f"| {kind} | {len(times)} | {min(gaps):.2f} | {statistics.median(gaps):.2f} |")
    recorder.httpd.shutdown()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per server")
    parser.add_argument("--window", type=int, default=60, help="refresh window, seconds")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    print("\n".join(run(args.seconds, args.window)))


if __name__ == "__main__":
    main()
