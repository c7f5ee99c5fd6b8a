"""Real servers on 127.0.0.1 for integration tests: a scriptable JWKS server and uvicorn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn

Handler = Callable[[BaseHTTPRequestHandler], None]


class JWKSServer:
    """A JWKS (and discovery) server whose answers tests can script and count.

    ``documents`` maps paths to JSON-able objects; ``behaviour`` (when set) answers
    instead, e.g. ``server.fail(500)``. ``hits`` counts requests per path.
    """

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.behaviour: Handler | None = None
        self.hits: dict[str, int] = {}
        self.delay = 0.0
        #: Extra response headers per path, e.g. ``{"/jwks": {"Cache-Control": "max-age=60"}}``.
        self.headers: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if server.delay:
                    time.sleep(server.delay)
                if server.behaviour is not None:
                    server.behaviour(self)
                    return
                document = server.documents.get(self.path)
                if document is None:
                    self.send_error(404)
                    return
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in server.headers.get(self.path, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def total_hits(self, path: str | None = None) -> int:
        with self._lock:
            return self.hits.get(path, 0) if path else sum(self.hits.values())

    def fail(self, status: int) -> None:
        def answer(handler: BaseHTTPRequestHandler) -> None:
            handler.send_error(status)

        self.behaviour = answer

    def answer(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
        drip: float = 0.0,
    ) -> None:
        """Answer every request so; *length* overrides Content-Length (truncation), *drip*
        sends the body one byte per *drip* seconds."""

        def answer(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            try:
                if drip:
                    for i in range(len(body)):
                        handler.wfile.write(body[i : i + 1])
                        handler.wfile.flush()
                        time.sleep(drip)
                else:
                    handler.wfile.write(body)
            except OSError:
                pass  # The client gave up: that is the point of the test.
            handler.close_connection = True

        self.behaviour = answer

    def start(self) -> JWKSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer().start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn_server(app: Any, **config: Any) -> Iterator[str]:
    """Run *app* under a real uvicorn in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


ROOT = Path(__file__).resolve().parents[1]


def server_command(target: str, port: int, workers: int = 1) -> list[str]:
    """The command a user runs: gunicorn for WSGI targets (by name), uvicorn for ASGI ones."""
    if "flask" in target or "wsgi" in target:
        return [
            sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", "4", "--graceful-timeout", "1",
        ]  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    return command if workers == 1 else [*command, "--workers", str(workers)]


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """The current environment without any JWTGATE_* variable, plus *env*."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}, **env}


@contextmanager
def server_process(
    target: str, env: dict[str, str], workers: int = 1, log: list[str] | None = None
) -> Iterator[str]:
    """Run ``target`` (``module:app``) in a real server subprocess from the repo root.

    With *log*, the server's output is appended to it once the server has stopped.
    """
    port = free_port()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            server_command(target, port, workers),
            cwd=ROOT, env=clean_env(env), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    output.seek(0)
                    raise AssertionError(output.read().decode())
                try:
                    httpx.get(base + "/public", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)
            if log is not None:
                output.seek(0)
                log.append(output.read().decode(errors="replace"))
