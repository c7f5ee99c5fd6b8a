"""Server-provided DPoP nonces (RFC 9449 §8, §9), stateless so any worker checks any other's.

A nonce is a time slot and an HMAC of it under a configured secret: no state, no
coordination. Every worker and instance configured with the same secrets makes the
same nonce for a slot and accepts it for that slot and the next one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["NonceKeeper"]

_CONTEXT = b"jwtgate/dpop-nonce/v1:"
_MAC_BYTES = 16


class NonceKeeper:
    """Makes and checks nonces from *secrets* (the first makes them; all check them)."""

    def __init__(self, secrets: Sequence[str], lifetime: float) -> None:
        if not secrets:
            raise ValueError("NonceKeeper needs at least one secret")
        self._secrets = tuple(secret.encode("utf-8") for secret in secrets)
        self._lifetime = lifetime
        self._made: tuple[int, str] = (-1, "")

    def __repr__(self) -> str:
        return f"NonceKeeper(secrets=<{len(self._secrets)}>, lifetime={self._lifetime})"

    def current(self, now: float) -> str:
        """The nonce for the slot holding *now*."""
        slot = int(now // self._lifetime)
        made = self._made
        if made[0] != slot:
            made = self._made = (slot, self._make(self._secrets[0], slot))
        return made[1]

    def valid(self, nonce: object, now: float) -> bool:
        """True for a nonce of the current or the previous slot under any secret."""
        if not isinstance(nonce, str) or len(nonce) > 64 or not nonce.isascii():
            return False
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return False
        if len(raw) != 8 + _MAC_BYTES:
            return False
        slot = int.from_bytes(raw[:8], "big")
        current = int(now // self._lifetime)
        if slot not in (current, current - 1):
            return False
        # Compared as strings so that another spelling of the same bytes is refused too.
        return any(hmac.compare_digest(nonce, self._make(s, slot)) for s in self._secrets)

    @staticmethod
    def _make(secret: bytes, slot: int) -> str:
        slot_bytes = max(slot, 0).to_bytes(8, "big")
        mac = hmac.new(secret, _CONTEXT + slot_bytes, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(slot_bytes + mac).rstrip(b"=").decode("ascii")
