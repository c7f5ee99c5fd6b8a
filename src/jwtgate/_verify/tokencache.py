"""A bounded cache of verified tokens, so a repeated token skips parsing and the signature check.

Security rules (a cached answer must never accept what the full path would reject):

* The token itself is never stored. Entries are indexed by Python's ``hash()`` of the
  token's bytes (SipHash, keyed per process) and hold its BLAKE2b digest (SHA-256 where
  BLAKE2 is refused, as on some FIPS builds); a hit is confirmed by that digest, so a
  token whose hash merely collides only misses. Finding a second token with the same
  digest is infeasible.
* An entry is tied to the ``KeySet`` object it was verified with; a refresh produces a
  new ``KeySet``, and every older entry then misses (and is dropped on sight).
* ``exp``, ``nbf`` and ``iat`` are rechecked on every hit with the current clock and leeway;
  an entry is dropped from the moment its token would be rejected as expired.
* Bounded by entry count and by the total length of cached tokens, so a stream of
  distinct tokens keeps memory flat. Eviction is second-chance (CLOCK): the oldest
  entry goes first unless it was hit since it was last considered; a hit only marks
  the entry, so the hot path takes no lock.

Admission: a token is cached from its second verification on (``admit``). Until
then only its hash is remembered, in a bounded set: a stream of one-off tokens
(many clients, or a flood) costs no entries and never evicts the tokens that are
in use, and a token in use costs one extra signature check in its whole life.
A miss costs one ``hash()``; the digest is computed for hits and admissions. BLAKE2b
rather than SHA-256: as fast in a tight loop, and in a loaded uvicorn worker a hit's
OpenSSL SHA-256 costs ~6 µs against ~3 µs for CPython's own BLAKE2b (docs/benchmarks.md).

The cache knows nothing of issuers or key sources: ``Authenticator`` judges a hit
(``CacheEntry.holds``) after asking the entry's key source whether its keys still hold.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

from .verifier import VerifiedToken

__all__ = ["CacheEntry", "TokenCache"]


def _pick_digest() -> Any:
    """BLAKE2b (CPython's own, RFC 7693); SHA-256 where BLAKE2 is missing or refused."""
    try:
        hashlib.blake2b(b"")
    except (AttributeError, ValueError):  # FIPS-restricted builds
        return hashlib.sha256
    return hashlib.blake2b


_digest = _pick_digest()


class CacheEntry(NamedTuple):
    digest: bytes  # of the token (_digest): what confirms a hit
    keys: object  # the KeySet the signature was verified with (compared by identity)
    owner: Any  # what the caller verified with (for Authenticator: the issuer)
    kid: str | None
    alg: str
    not_before: float  # max(nbf, iat) - leeway, or -inf
    expires: float  # exp + leeway: the first instant the full path rejects the token
    token: VerifiedToken
    scopes: tuple[str, ...]  # token.scopes, sorted (what request.auth.scopes lists)
    cost: int

    def holds(self, keys: object, now: float) -> bool:
        """True while the entry may answer for its token: same key set, within its time claims."""
        return self.keys is keys and self.not_before <= now < self.expires


class TokenCache:
    """Bounded cache of ``VerifiedToken`` by token (its ASCII bytes); thread-safe."""

    def __init__(
        self, max_entries: int, *, leeway: float, max_bytes: int = 4 * 1024 * 1024
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._leeway = leeway
        self._entries: OrderedDict[int, CacheEntry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._seen: set[int] = set()  # Tokens verified once, not cached yet.
        self._used: set[int] = set()  # Entries hit since they last came up for eviction.

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Total length of the cached tokens (the memory budget's measure)."""
        return self._bytes

    def get(self, token: bytes) -> CacheEntry | None:
        """The entry for *token*, to be judged with ``CacheEntry.holds`` before use."""
        index = hash(token)
        entry = self._entries.get(index)  # One atomic lookup: no lock on the hot path.
        if entry is None or entry.digest != _digest(token).digest():
            return None
        self._used.add(index)  # Its second chance at eviction time (CLOCK).
        return entry

    def admit(self, token: bytes) -> bool:
        """Whether *token*, just verified, should be cached: True from its second verification.

        (A hash collision only admits a verified token one use early.)
        """
        index, seen = hash(token), self._seen
        if index in seen:
            seen.discard(index)
            return True
        if len(seen) >= self.max_entries:
            seen.clear()  # Bounded: a flood of one-off tokens only restarts the count.
        seen.add(index)
        return False

    def put(self, token: bytes, verified: VerifiedToken, keys: object, owner: Any = None) -> None:
        """Remember *verified*, just checked against *keys*, for *token*.

        The claims have been validated, so ``exp`` is a number, ``nbf`` and ``iat`` when present.
        """
        cost = len(token)
        if cost > self.max_bytes:
            return
        claims, header, leeway = verified.claims, verified.header, self._leeway
        # nbf and iat are both refused when ahead of now + leeway (iat too: a clock
        # stepped back makes the full path answer "issued in the future").
        starts = [claims[name] for name in ("nbf", "iat") if name in claims]
        entry = CacheEntry(
            _digest(token).digest(),
            keys,
            owner,
            header.get("kid"),
            header["alg"],
            max(starts) - leeway if starts else -math.inf,
            claims["exp"] + leeway,
            verified,
            tuple(sorted(verified.scopes)),
            cost,
        )
        index, entries, used = hash(token), self._entries, self._used
        with self._lock:
            old = entries.pop(index, None)  # The same token, or one whose hash collides.
            if old is not None:
                self._bytes -= old.cost
            entries[index] = entry
            self._bytes += cost
            # Evict from the oldest end; an entry hit since it was last considered goes
            # back to the young end once instead (second chance: LRU-like, lock-free hits).
            chances = len(entries)
            while len(entries) > self.max_entries or self._bytes > self.max_bytes:
                oldest, evicted = entries.popitem(last=False)
                if chances and oldest in used and oldest != index:
                    chances -= 1
                    used.discard(oldest)
                    entries[oldest] = evicted
                    continue
                used.discard(oldest)
                self._bytes -= evicted.cost
            if len(used) > 2 * len(entries) + 64:
                # Marks for entries evicted between a get and its mark: drop them.
                used.intersection_update(entries)

    def discard(self, token: bytes, entry: CacheEntry) -> None:
        """Forget *entry*, found for *token* (unless it has been replaced meanwhile)."""
        index = hash(token)
        with self._lock:
            if self._entries.get(index) is entry:
                del self._entries[index]
                self._used.discard(index)
                self._bytes -= entry.cost

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._seen.clear()
            self._used.clear()
            self._bytes = 0
