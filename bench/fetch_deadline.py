"""How long one key fetch lasts against a dripping issuer, sync and async faces.

    .venv/bin/python -m bench.fetch_deadline

Two servers on 127.0.0.1, jwtgate at default settings (JWTGATE_HTTP_TOTAL_TIMEOUT=10,
JWTGATE_HTTP_TIMEOUT=5): "header drip" sends its status line and headers one byte per
0.5 s (about 30 s in all), "body drip" its headers at once and a 40-byte body one
byte per 0.75 s (30 s). Each line: the face, the time ``refresh_sync()`` or
``refresh()`` took, and the failure recorded. It needs nothing newer than the
public API, so it measures older versions too (``PYTHONPATH=<old>/src``).
"""

from __future__ import annotations

import socket
import threading
import time

import anyio

from jwtgate import KeySetUnavailable, RemoteKeySet, Settings

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
BODY = b'{"keys": []}' + b" " * 28


def serve(kind: str) -> str:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            if kind == "header drip":
                for i in range(len(HEAD)):
                    conn.sendall(HEAD[i : i + 1])
                    time.sleep(0.5)
                conn.sendall(BODY)
            else:
                conn.sendall(HEAD)
                for i in range(len(BODY)):
                    conn.sendall(BODY[i : i + 1])
                    time.sleep(0.75)
        except OSError:
            pass  # jwtgate gave up: the point of the measurement.
        finally:
            conn.close()

    def loop() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/jwks"


def main() -> None:
    for kind in ("header drip", "body drip"):
        settings = Settings(issuer="https://issuer.test", audience="api", jwks_url=serve(kind))
        for face in ("sync", "async"):
            keys = RemoteKeySet(settings)
            started = time.monotonic()
            try:
                if face == "sync":
                    keys.refresh_sync()
                else:
                    anyio.run(keys.refresh)
            except KeySetUnavailable:
                pass
            print(f"{kind:11} {face:5} {time.monotonic() - started:5.1f} s  {keys.last_error}")


if __name__ == "__main__":
    main()
