"""A development issuer on a real loopback socket, in a thread (for the testing kit)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._config.urls import is_loopback_host
from .issuer import Issuer

__all__ = ["serve"]


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0, **issuer: Any) -> Iterator[Issuer]:
    """Run an ``Issuer`` (built with *issuer* arguments) on loopback; yields it.

    Its URL is the server's (``http://127.0.0.1:<port>``), so ``iss`` and discovery
    match; keys added later (``rotate``) are served at once. Requests are counted in
    ``issuer.requests`` (paths). Besides the documents it serves the token endpoint and
    the login page (``jwtgate.testing.oauth``). *host* must be a loopback address:
    anyone who reaches the issuer can sign in as anyone.
    """
    if not is_loopback_host(host):
        raise ValueError(
            f"the development issuer binds only to loopback (127.0.0.1, ::1), not {host!r}: "
            "anyone reaching it could mint tokens"
        )
    holder: list[Issuer] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            size = min(int(self.headers.get("Content-Length") or 0), 65536)
            body = self.rfile.read(size) if size > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = holder[0].endpoints.handle(self.command, path, query, headers, body)
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_OPTIONS = _answer

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
