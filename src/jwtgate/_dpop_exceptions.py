"""The errors of sender-constrained tokens (RFC 9449 DPoP), under the one root.

Listed in the tree of ``_exceptions``; kept apart so that each module stays one concept::

    AuthError
    ├── InvalidToken
    │   └── TokenBindingError   401 invalid_token: cnf sent as Bearer, or unbound under DPoP
    ├── InvalidDPoPProof        401 invalid_dpop_proof (DPoP challenge): RFC 9449 §4.3
    │   └── UseDPoPNonce        401 use_dpop_nonce: the proof needs the server's nonce
    └── StateUnavailable        503 temporarily_unavailable: shared state (Redis) is down
"""

from __future__ import annotations

from ._exceptions import AuthError, InvalidToken

__all__ = ["InvalidDPoPProof", "StateUnavailable", "TokenBindingError", "UseDPoPNonce"]


class TokenBindingError(InvalidToken):
    """401: a token with ``cnf`` sent as a bearer token, or an unbound token sent as DPoP."""

    reason = "binding"


class InvalidDPoPProof(AuthError):
    """401: the ``DPoP`` proof fails a check of RFC 9449 §4.3; the DPoP challenge carries it."""

    error = "invalid_dpop_proof"
    status_code = 401
    reason = "dpop_proof"
    scheme = "DPoP"


class UseDPoPNonce(InvalidDPoPProof):
    """401: the proof lacks the server's current nonce (RFC 9449 §9); ``nonce`` is the fresh one."""

    error = "use_dpop_nonce"
    reason = "dpop_nonce"

    def __init__(self, description: str, *, nonce: str) -> None:
        self.nonce = nonce
        super().__init__(description)


class StateUnavailable(AuthError):
    """503: the shared state (the DPoP replay cache on Redis) cannot be reached."""

    error = "temporarily_unavailable"
    status_code = 503
    reason = "state_unavailable"

    def __init__(self, description: str, *, retry_after: int = 2) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(description)
