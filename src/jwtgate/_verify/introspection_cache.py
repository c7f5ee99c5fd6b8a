"""Introspection answers kept in memory, and single flight for the calls that fill them.

Keys are digests (``token_digest``): no raw token is held. Active answers are kept
as the ``VerifiedToken`` they gave, until ``min(exp, now + max age)``; negative
answers (inactive, or refused by a check) apart and briefly. Both are bounded in
entries and in bytes (least recently used go first).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import anyio

from .._exceptions import AuthError, InvalidClaim, KeySetUnavailable
from .verifier import VerifiedToken

__all__ = ["AnswerCache", "Flight", "again", "token_digest"]

# Per-entry bookkeeping (dict slot, tuple, digest, VerifiedToken) counted on top of the answer.
_OVERHEAD = 400


def again(exc: AuthError) -> AuthError:
    """A fresh copy of *exc*, to raise once more (a kept instance raised again would grow
    its traceback with every raise, and race between threads)."""
    if isinstance(exc, InvalidClaim):
        return type(exc)(exc.description, claim=exc.claim, reason=exc.reason)
    if isinstance(exc, KeySetUnavailable):
        return type(exc)(exc.description, retry_after=exc.retry_after)
    copy = type(exc).__new__(type(exc))
    AuthError.__init__(copy, exc.description, reason=exc.reason)
    return copy


def token_digest(namespace: bytes, token: str) -> bytes:
    """The cache key of *token*: SHA-256 over the endpoint's namespace and the token."""
    return hashlib.sha256(namespace + token.encode("ascii")).digest()


class AnswerCache:
    """Positive and negative introspection answers by token digest (thread-safe)."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._positive: OrderedDict[bytes, tuple[VerifiedToken, float, int]] = OrderedDict()
        self._negative: OrderedDict[bytes, tuple[AuthError, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._positive) + len(self._negative)

    @property
    def weight(self) -> int:
        """The memory the active answers are counted for."""
        return self._bytes

    def get(self, key: bytes, now: float) -> VerifiedToken | None:
        """The verified token kept for *key*, while it may still be reused."""
        entry = self._positive.get(key)
        if entry is None:
            return None
        if now < entry[1]:
            return entry[0]
        with self._lock:
            if self._positive.get(key) is entry:
                del self._positive[key]
                self._bytes -= entry[2]
        return None

    def get_negative(self, key: bytes, now: float) -> AuthError | None:
        """A copy of the refusal kept for *key*, while it may still be reused."""
        entry = self._negative.get(key)
        if entry is None or now >= entry[1]:
            return None
        return again(entry[0])

    def put(self, key: bytes, token: VerifiedToken, until: float, size: int) -> None:
        """Keep *token* for *key* until *until*; *size* is its answer's JSON length."""
        weight = size + _OVERHEAD
        if self._size == 0 or weight > self._max_bytes:
            return
        with self._lock:
            old = self._positive.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._positive[key] = (token, until, weight)
            self._bytes += weight
            while len(self._positive) > self._size or self._bytes > self._max_bytes:
                _, dropped = self._positive.popitem(last=False)
                self._bytes -= dropped[2]

    def put_negative(self, key: bytes, refusal: AuthError, until: float) -> None:
        """Keep *refusal* (the error the answer gave) for *key* until *until*."""
        if self._size == 0:
            return
        with self._lock:
            self._negative[key] = (refusal, until)
            self._negative.move_to_end(key)
            while len(self._negative) > self._size:
                self._negative.popitem(last=False)


@dataclass(eq=False)
class Flight:
    """One introspection call in progress, which the callers of the same token wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    adone: anyio.Event | None = None
    result: VerifiedToken | None = None
    error: BaseException | None = None  # An AuthError, or what interrupted the leader.

    def outcome(self) -> VerifiedToken:
        """The leader's result, or its exception raised again."""
        if isinstance(self.error, AuthError):
            raise again(self.error)
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def finish(self) -> None:
        """Wake every waiter."""
        self.done.set()
        if self.adone is not None:
            self.adone.set()
