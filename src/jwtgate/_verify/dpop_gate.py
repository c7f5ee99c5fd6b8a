"""Sender-constrained tokens: a DPoP request's token and proof in, a ``VerifiedToken`` out.

``DPoPGate`` joins the ``Authenticator`` (the token), the ``ProofChecker`` (the proof,
RFC 9449 §4.3), the binding (``cnf.jkt`` = the proof key's thumbprint, §6.1) and the
replay store (§11.1), with async and sync faces taking the same steps in the same
order. It also holds the rule for bearer requests: a token with ``cnf`` is never a
bearer token, and under ``required`` no bearer token is accepted.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence

from .._config.settings import Settings
from .._dpop_exceptions import InvalidDPoPProof, TokenBindingError
from .._state.factory import replay_store
from .._state.replay import ReplayStore
from .authenticator import Authenticator
from .dpop import CheckedProof, ProofChecker
from .dpop_nonce import NonceKeeper
from .verifier import VerifiedToken

__all__ = ["DPoPGate", "bearer_refusal"]


def bearer_refusal(verified: VerifiedToken) -> TokenBindingError:
    """Why *verified* is refused as a bearer token: it has ``cnf``, or DPoP is required.

    Callers refuse a bearer token when ``"cnf" in verified.claims`` or under
    ``required`` (the test is theirs, inline on the hot path). RFC 9449 §7.1 and
    RFC 8705 §3: a token bound to a key (``cnf``: ``jkt``, ``x5t#S256`` or any other
    member) proves nothing without proof of that key, whatever the mode.
    """
    if "cnf" in verified.claims:
        return TokenBindingError("The access token is bound to a key: send it with DPoP.")
    return TokenBindingError("This resource only accepts DPoP-bound access tokens.")


class DPoPGate:
    """Verify ``Authorization: DPoP`` requests under *settings* with *authenticator*.

    *store* replaces the replay store (default: Redis when ``redis_url`` is set, else
    in-process); *clock* (seconds since the epoch) replaces ``time.time``.
    """

    def __init__(
        self,
        settings: Settings,
        authenticator: Authenticator,
        *,
        store: ReplayStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.required = settings.dpop == "required"
        nonces = None
        if settings.use_dpop_nonce:
            nonces = NonceKeeper(settings.dpop_nonce_secrets, settings.dpop_nonce_lifetime)
        self.checker = ProofChecker(
            settings.dpop_algorithms,
            max_age=settings.dpop_max_age,
            leeway=settings.leeway,
            nonces=nonces,
        )
        self.store = store if store is not None else replay_store(settings)
        self._clock = clock

    def __repr__(self) -> str:
        return f"DPoPGate(mode={self.settings.dpop!r}, store={self.store!r})"

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The proof algorithms accepted, for the ``algs`` challenge attribute."""
        return self.checker.algorithms

    def current_nonce(self) -> str | None:
        """The nonce clients must put in proofs now, or None when nonces are off."""
        nonces = self.checker.nonces
        return None if nonces is None else nonces.current(self._clock())

    async def authenticate(
        self, token: str, proofs: Sequence[str], method: str, url: str
    ) -> VerifiedToken:
        """Verify a DPoP request; raises ``AuthError`` (``StateUnavailable``: Redis is down)."""
        checked = self._check_proof(token, proofs, method, url)
        verified = await self.authenticator.authenticate(token)
        self._check_binding(verified, checked)
        if not await self.store.remember(checked.replay_key, self.checker.replay_ttl):
            raise InvalidDPoPProof("The DPoP proof has been used before.", reason="dpop_replay")
        return verified

    def authenticate_sync(
        self, token: str, proofs: Sequence[str], method: str, url: str
    ) -> VerifiedToken:
        """``authenticate`` for threads (WSGI)."""
        checked = self._check_proof(token, proofs, method, url)
        verified = self.authenticator.authenticate_sync(token)
        self._check_binding(verified, checked)
        if not self.store.remember_sync(checked.replay_key, self.checker.replay_ttl):
            raise InvalidDPoPProof("The DPoP proof has been used before.", reason="dpop_replay")
        return verified

    def _check_proof(
        self, token: str, proofs: Sequence[str], method: str, url: str
    ) -> CheckedProof:
        # The stateless checks come first: a bad proof costs no key fetch and no Redis call.
        if len(proofs) != 1:
            if not proofs:
                raise InvalidDPoPProof("A DPoP-bound token needs a DPoP proof header.")
            raise InvalidDPoPProof("The request has more than one DPoP proof.")
        return self.checker.check(
            proofs[0], method=method, url=url, access_token=token, now=self._clock()
        )

    @staticmethod
    def _check_binding(verified: VerifiedToken, checked: CheckedProof) -> None:
        cnf = verified.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not isinstance(jkt, str):
            # RFC 9449 §7.1: under the DPoP scheme the token itself must be bound.
            raise TokenBindingError("The access token is not bound to a DPoP key.")
        if not hmac.compare_digest(jkt.encode("utf-8", "replace"), checked.jkt.encode()):
            raise InvalidDPoPProof(
                "The DPoP proof's key is not the key the token is bound to.",
                reason="dpop_binding",
            )

    async def aclose(self) -> None:
        """Release the replay store's async connections."""
        await self.store.aclose()

    def close(self) -> None:
        """Release the replay store's sync connections."""
        self.store.close()
