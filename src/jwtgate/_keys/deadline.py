"""Outgoing HTTP with a hard deadline: connect, read and total limits that no server pacing bends.

httpx's read timeout restarts with every byte received, so a server that drips its
answer one byte at a time (headers or body) is never timed out by it. Here every
exchange runs under a ``Deadline`` fixed when the work began:

* each operation's timeout is the configured one clipped to the time left;
* the async face runs inside ``anyio.fail_after`` (cancellation does not wait for
  the server);
* the sync face arms a watchdog timer that, at the deadline, shuts the connection's
  socket down (``shutdown(SHUT_RDWR)`` wakes a thread blocked in ``recv``), and the
  exchange sends ``Connection: close`` so that it always runs on a socket of its own
  that the watchdog may kill; with a transport that has no socket (a mock), the body
  loop still stops at the first chunk past the deadline;
* the body is read in bounded chunks and refused past ``max_bytes`` (decoded bytes:
  the cap stops compression bombs too).

Key fetches (discovery and JWKS) and token introspection go through ``send`` /
``asend``; one ``Deadline`` may span several exchanges (discovery, then the JWKS).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

__all__ = ["Deadline", "FetchError", "Limits", "Response", "asend", "describe", "send"]


class FetchError(Exception):
    """An outgoing request failed: refused, timed out, too large or malformed (says which)."""


@dataclass(frozen=True, slots=True)
class Response:
    """What was received: the status, the whole body and the headers."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-operation and total limits of outgoing requests, in seconds; body size in bytes."""

    connect: float
    read: float
    total: float
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits of ``Settings`` (``http_*_timeout`` and ``jwks_max_bytes``)."""
        return cls(
            connect=settings.http_connect_timeout,
            read=settings.http_timeout,
            total=settings.http_total_timeout,
            max_bytes=settings.jwks_max_bytes,
        )


class Deadline:
    """A point in time by which a whole piece of outgoing work must be over.

    Started on construction from ``limits.total``; *clock* is ``time.monotonic``.
    """

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self.at = clock() + limits.total

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(self.at - self._clock(), 0.0)

    def timeout(self) -> httpx.Timeout:
        """httpx timeouts for the next operation: the configured ones, clipped to the time left."""
        left = max(self.remaining(), 0.001)
        read = min(self.limits.read, left)
        return httpx.Timeout(read, connect=min(self.limits.connect, left), pool=left)


def send(
    client: httpx.Client, request: httpx.Request, deadline: Deadline, *, what: str = ""
) -> Response:
    """Send *request* and read the answer by *deadline*, whatever the server's pacing.

    Raises ``FetchError`` naming *what* (default: the URL): timed out, failed (the
    httpx error's name) or too large. Any status is returned; checking it is the caller's.
    """
    what = what or str(request.url)
    watchdog = _Watchdog()
    _prepare(request, deadline, what)
    request.extensions["trace"] = watchdog.trace
    timer = threading.Timer(deadline.remaining(), watchdog.expire)
    timer.name, timer.daemon = "jwtgate-fetch-watchdog", True
    timer.start()
    try:
        response = client.send(request, stream=True)
        try:
            watchdog.watch(response.extensions.get("network_stream"))
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                _check_size(body, deadline, what)
                if watchdog.expired:
                    raise _timed_out(what, deadline)
        finally:
            response.close()
    except httpx.HTTPError as exc:
        raise _failure(exc, what, deadline, expired=watchdog.expired) from None
    finally:
        timer.cancel()
    return _response(response, body)


async def asend(
    client: httpx.AsyncClient, request: httpx.Request, deadline: Deadline, *, what: str = ""
) -> Response:
    """The async twin of ``send``: cancelled at *deadline* by ``anyio.fail_after``."""
    what = what or str(request.url)
    _prepare(request, deadline, what)
    try:
        with anyio.fail_after(deadline.remaining() or 0.001):
            response = await client.send(request, stream=True)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    _check_size(body, deadline, what)
            finally:
                await response.aclose()
    except TimeoutError:
        raise _timed_out(what, deadline) from None
    except httpx.HTTPError as exc:
        raise _failure(exc, what, deadline, expired=False) from None
    return _response(response, body)


def describe(exc: httpx.HTTPError) -> str:
    """An httpx error in words ("connection refused"), its class name after."""
    name = type(exc).__name__
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ConnectionRefusedError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None or "refused" in str(exc).lower():
        return f"connection refused (is the server running, on this port?) ({name})"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out ({name})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({name})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc} ({name})"
    return f"{name}: {exc}" if str(exc) else name


def _timed_out(what: str, deadline: Deadline) -> FetchError:
    return FetchError(f"{what} timed out (deadline of {deadline.limits.total:g} s)")


def _failure(exc: httpx.HTTPError, what: str, deadline: Deadline, *, expired: bool) -> FetchError:
    # An operation timeout clipped to the time left is the deadline too; otherwise the
    # error in words tells the operator what happened (refused, read timeout: a hang).
    if expired or (isinstance(exc, httpx.TimeoutException) and deadline.remaining() < 0.01):
        return _timed_out(what, deadline)
    return FetchError(f"{what}: {describe(exc)}")


def _prepare(request: httpx.Request, deadline: Deadline, what: str) -> None:
    if deadline.remaining() <= 0:
        raise _timed_out(what, deadline)
    request.extensions["timeout"] = deadline.timeout().as_dict()
    # A socket of its own for every exchange: the sync watchdog can kill it without
    # touching a pooled connection (and an idle pooled one cannot be half-dead).
    request.headers["Connection"] = "close"


def _check_size(body: bytearray, deadline: Deadline, what: str) -> None:
    if len(body) > deadline.limits.max_bytes:
        raise FetchError(f"{what} sent more than {deadline.limits.max_bytes} bytes")


def _response(response: httpx.Response, body: bytearray) -> Response:
    return Response(response.status_code, bytes(body), dict(response.headers))


class _Watchdog:
    """Collects the sockets of one sync exchange; ``expire`` shuts them down."""

    def __init__(self) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        # httpcore's trace extension reports each new connection (and its TLS layer).
        if event.endswith(("connect_tcp.complete", "start_tls.complete")):
            stream = info.get("return_value")
            self.watch(stream)

    def watch(self, stream: Any) -> None:
        sock = None if stream is None else stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _kill(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _kill(sock)


def _kill(sock: socket.socket) -> None:
    # shutdown, not close: close() does not wake a thread blocked in recv() on Linux.
    # socket.socket's own method: on an SSLSocket it leaves the TLS object to its reader.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
