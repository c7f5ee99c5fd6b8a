"""A JWKS (and discovery) server on 127.0.0.1 that misbehaves on demand, at the socket level.

Unlike ``servers.JWKSServer`` (http.server, whole responses), this one controls every
byte and its pacing, and can stop listening altogether: the faults a key fetch must
survive within its deadline. Set ``mode`` (or call ``set_mode`` for ``refused``):

* ``ok``: ``200`` with the document; ``status500``: ``500``; ``garbage``: ``200`` with HTML;
* ``hang``: reads the request, never answers;
* ``stall``: sends the headers and half the body, then nothing;
* ``header_drip``: the status line and headers one byte per ``interval``;
* ``body_drip``: the headers at once, the body one byte per ``interval``;
* ``trickle``: a body just under ``trickle_size`` bytes, 1 KiB per ``interval``;
* ``refused``: the port is closed (connections are refused) until another mode is set.

Every request is recorded in ``hits`` as ``(time.time(), path)``; every connection is
closed after its answer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Document = Callable[[], Any]


class FaultServer:
    """Serves ``documents`` (path -> a function giving the JSON-able document) by ``mode``."""

    def __init__(self, interval: float = 0.2, trickle_size: int = 65000) -> None:
        self.documents: dict[str, Document] = {}
        self.mode = "ok"
        self.interval = interval
        self.trickle_size = trickle_size
        self.hits: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def set_mode(self, mode: str) -> None:
        """Switch to *mode*; ``refused`` closes the port, any other mode reopens it."""
        closed = False
        with self._lock:
            if mode == "refused" and self._listener is not None:
                # shutdown first: close() alone leaves the socket listening until the
                # accept loop's pending accept() returns, and it may take a connection.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener, closed = None, True
            elif mode != "refused" and self._listener is None:
                self._listener = self._listen(self.port)
            self.mode = mode
        if closed:
            time.sleep(0.1)  # Past the accept loop's timeout: the port is closed now.

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, p in self.hits if path is None or p == path)

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.05)
        return listener

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except OSError:  # Timeout, or closed by set_mode("refused").
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(65536)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode("latin-1")
            with self._lock:
                self.hits.append((time.time(), path))
                mode = self.mode
            self._answer(conn, mode, path)
        except OSError:
            pass  # The client gave up (its deadline), or the server is stopping.
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, mode: str, path: str) -> None:
        document = self.documents.get(path)
        body = json.dumps(document()).encode() if document is not None else b"{}"
        status = "200 OK" if document is not None else "404 Not Found"
        if mode == "status500":
            status, body = "500 Internal Server Error", b"oops"
        elif mode == "garbage":
            body = b"<html><body>Service temporarily unavailable</body></html>"
        elif mode == "trickle":
            body += b" " * max(self.trickle_size - len(body), 0)
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        if mode in ("hang", "stall"):
            if mode == "stall":
                conn.sendall(head + body[: len(body) // 2])
            self._wait_for_close(conn)
        elif mode == "header_drip":
            self._drip(conn, head, 1)
            conn.sendall(body)
        elif mode in ("body_drip", "trickle"):
            conn.sendall(head)
            self._drip(conn, body, 1 if mode == "body_drip" else 1024)
        else:
            conn.sendall(head + body)

    def _drip(self, conn: socket.socket, data: bytes, size: int) -> None:
        for i in range(0, len(data), size):
            if self._stopping.is_set():
                return
            conn.sendall(data[i : i + size])
            time.sleep(self.interval)

    def _wait_for_close(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not self._stopping.is_set():
            try:
                if not conn.recv(1024):
                    return  # The client closed: its deadline worked.
            except TimeoutError:
                continue


@contextmanager
def fault_server(**options: Any) -> Iterator[FaultServer]:
    server = FaultServer(**options).start()
    try:
        yield server
    finally:
        server.stop()
