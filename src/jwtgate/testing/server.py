"""A development issuer on a real loopback socket, in a thread (for the testing kit)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .issuer import Issuer

__all__ = ["serve"]


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0, **issuer: Any) -> Iterator[Issuer]:
    """Run an ``Issuer`` (built with *issuer* arguments) on loopback; yields it.

    Its URL is the server's (``http://127.0.0.1:<port>``), so ``iss`` and discovery
    match; keys added later (``rotate``) are served at once. Requests are counted in
    ``issuer.requests`` (paths).
    """
    holder: list[Issuer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            current = holder[0]
            current.requests.append(self.path)
            body = current.documents().get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b'{"error":"not_found"}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=300")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # Tests read issuer.requests instead.

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    bound = f"[{host}]" if ":" in host else host
    current = Issuer(f"http://{bound}:{httpd.server_address[1]}", **issuer)
    current.requests = []
    holder.append(current)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="jwtgate-issuer",
        daemon=True,
    )
    thread.start()
    try:
        yield current
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
