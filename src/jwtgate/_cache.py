"""A bounded cache of verified tokens, so a repeated token skips parsing and the signature check.

Security rules (a cached answer must never accept what the full path would reject):

* Keyed by a BLAKE2b-256 digest of the token, never the token itself, so the cache
  holds no bearer credentials; finding a second token with the same digest is infeasible.
* An entry is tied to the ``KeySet`` object it was verified with; a refresh produces a
  new ``KeySet``, and every older entry then misses (and is dropped on sight).
* ``exp`` and ``nbf`` are rechecked on every hit with the current clock and leeway;
  an entry is dropped from the moment its token would be rejected as expired.
* Bounded by entry count and by the total length of cached tokens (least recently
  used entries are evicted first), so a stream of distinct tokens keeps memory flat.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

from ._claims import _numeric
from ._verifier import VerifiedToken

__all__ = ["CacheEntry", "TokenCache"]


class CacheEntry(NamedTuple):
    keys: object  # the KeySet the signature was verified with (compared by identity)
    kid: str | None
    alg: str
    expires: float  # exp + leeway: the first instant the full path rejects the token
    not_before: float | None  # nbf - leeway
    token: VerifiedToken
    cost: int


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode(), digest_size=32).digest()


class TokenCache:
    """LRU cache of ``VerifiedToken`` by token digest; thread-safe."""

    def __init__(
        self, max_entries: int, *, leeway: float, max_bytes: int = 4 * 1024 * 1024
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._leeway = leeway
        self._entries: OrderedDict[bytes, CacheEntry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Total length of the cached tokens (the memory budget's measure)."""
        return self._bytes

    def lookup(self, token: str) -> CacheEntry | None:
        """The entry for *token*, still to be checked with ``valid`` before use."""
        key = _digest(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def valid(
        self, token: str, entry: CacheEntry, keys: object, now: float
    ) -> VerifiedToken | None:
        """*entry*'s identity if it still holds with key set *keys* at *now*; else drop it."""
        # The one place a cached answer is judged: same key set object, time claims
        # rechecked exactly as the full path would (with the same leeway).
        if (
            entry.keys is keys
            and now < entry.expires
            and (entry.not_before is None or entry.not_before <= now)
        ):
            return entry.token
        self.discard(token)
        return None

    def put(self, token: str, verified: VerifiedToken, keys: object) -> None:
        """Remember *verified* (just checked against *keys*) for *token*."""
        claims = verified.claims
        exp = _numeric(claims, "exp")
        if exp is None:  # cannot happen after validation: exp is required
            return
        nbf = _numeric(claims, "nbf")
        cost = len(token)
        if cost > self.max_bytes:
            return
        entry = CacheEntry(
            keys,
            verified.header.get("kid"),
            verified.header["alg"],
            exp + self._leeway,
            None if nbf is None else nbf - self._leeway,
            verified,
            cost,
        )
        key = _digest(token)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.cost
            self._entries[key] = entry
            self._bytes += cost
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.cost

    def discard(self, token: str) -> None:
        """Forget *token*."""
        with self._lock:
            old = self._entries.pop(_digest(token), None)
            if old is not None:
                self._bytes -= old.cost

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
