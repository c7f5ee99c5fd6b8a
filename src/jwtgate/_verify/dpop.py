"""Checking DPoP proofs (RFC 9449 §4.3): no I/O, the proof, the request and a clock in.

``ProofChecker.check`` takes the proof of one request and either returns a
``CheckedProof`` (the proof key's thumbprint and the key under which its ``jti`` must
be recorded) or raises ``InvalidDPoPProof`` / ``UseDPoPNonce``. Binding the proof to
the access token (``cnf.jkt``) and the replay check are ``DPoPGate``'s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from .._dpop_exceptions import InvalidDPoPProof, UseDPoPNonce
from .._exceptions import MalformedToken
from .._keys.jwk import JWK, UnusableKey, parse_jwk
from .dpop_nonce import NonceKeeper
from .token import parse_proof

__all__ = [
    "MAX_PROOF_BYTES",
    "CheckedProof",
    "ProofChecker",
    "access_token_hash",
    "jwk_thumbprint",
    "normalize_htu",
]

#: Longer proofs are refused before decoding (an RSA-4096 proof is about 1.5 KB).
MAX_PROOF_BYTES = 8192
_MAX_JTI = 256
_KEY_MEMO_MAX = 1024
# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
                       "OKP": ("crv", "kty", "x")}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True, slots=True)
class CheckedProof:
    """A proof that passed every check that needs no state."""

    jkt: str  # RFC 7638 thumbprint of the proof's key
    replay_key: str  # what the replay store records: one entry per key and jti


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise ValueError("not a public RSA, EC or OKP JWK")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    """``ath`` (RFC 9449 §4.2): base64url of the SHA-256 of the token's ASCII bytes."""
    return _b64(hashlib.sha256(token.encode("ascii", "replace")).digest())


@lru_cache(maxsize=1024)  # A server has few URLs, and clients repeat theirs.
def normalize_htu(url: str) -> str | None:
    """*url* without query and fragment, normalized (RFC 3986 §6.2.2-6.2.3); None if invalid.

    Scheme and host lowercased, the default port dropped, an empty path made ``/``,
    percent-encodings uppercased and those of unreserved characters decoded.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _PERCENT.sub(_normalize_escape, parts.path or "/")
    return f"{scheme}://{netloc}{path}"


def _normalize_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group()[1:], 16))
    return char if char in _UNRESERVED else match.group().upper()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _refuse(description: str) -> InvalidDPoPProof:
    return InvalidDPoPProof(description)


class ProofChecker:
    """The stateless checks of RFC 9449 §4.3 for proofs signed with *algorithms*.

    *max_age*: seconds a proof is accepted after its ``iat``; *leeway*: clock skew
    either side. *nonces*: require server nonces (RFC 9449 §9) made by this keeper.
    """

    def __init__(
        self,
        algorithms: Iterable[str],
        *,
        max_age: float,
        leeway: float,
        nonces: NonceKeeper | None = None,
    ) -> None:
        self.algorithms = tuple(algorithms)
        self._allowed = frozenset(self.algorithms)
        self._max_age = max_age
        self._leeway = leeway
        self.nonces = nonces
        #: How long a jti must be remembered: the whole span in which its iat is accepted.
        self.replay_ttl = max_age + 2 * leeway
        # One client signs its proofs with one key, so the header segment (typ, alg, jwk)
        # repeats: its key is parsed and thumbprinted once.
        self._keys: dict[str, tuple[JWK, str]] = {}

    def check(
        self, proof: str, *, method: str, url: str, access_token: str | None, now: float
    ) -> CheckedProof:
        """Check *proof* for a request (*method*, *url* with any query) carrying *access_token*."""
        if len(proof) > MAX_PROOF_BYTES:
            raise _refuse("The DPoP proof is too large.")
        try:
            parsed = parse_proof(proof)
        except MalformedToken:
            raise _refuse("The DPoP proof is not a well-formed dpop+jwt JWS.") from None
        alg = parsed.alg
        if alg not in self._allowed:
            raise _refuse("The DPoP proof's algorithm is not accepted.")
        key, jkt = self._key(proof.partition(".")[0], parsed.header["jwk"], alg)
        if not key.verify(alg, parsed.signing_input, parsed.signature):
            raise _refuse("The DPoP proof's signature does not verify.")
        claims = parsed.claims
        jti, htm, htu, iat = (claims.get(n) for n in ("jti", "htm", "htu", "iat"))
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
            raise _refuse("The DPoP proof has no valid jti.")
        if htm != method:
            raise _refuse("The DPoP proof is for another HTTP method.")
        expected = normalize_htu(url)
        if not isinstance(htu, str) or expected is None or normalize_htu(htu) != expected:
            raise _refuse("The DPoP proof is for another URL.")
        if isinstance(iat, bool) or not isinstance(iat, (int, float)):
            raise _refuse("The DPoP proof has no numeric iat.")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(
                ath.encode("utf-8", "replace"), access_token_hash(access_token).encode()
            ):
                raise _refuse("The DPoP proof is not for this access token (ath).")
        if self.nonces is not None and not self.nonces.valid(claims.get("nonce"), now):
            raise UseDPoPNonce(
                "The DPoP proof must carry the server's current nonce.",
                nonce=self.nonces.current(now),
            )
        if iat > now + self._leeway:
            raise _refuse("The DPoP proof was issued in the future.")
        if iat < now - self._max_age - self._leeway:
            raise _refuse("The DPoP proof is too old.")
        # One entry per (key, jti): a client cannot use up another client's jti values.
        replay = hashlib.sha256(f"{jkt}\x00{jti}".encode()).hexdigest()
        return CheckedProof(jkt=jkt, replay_key=replay)

    def _key(self, header_b64: str, jwk: Any, alg: str) -> tuple[JWK, str]:
        found = self._keys.get(header_b64)
        if found is not None:
            return found
        try:
            # The same rules as keys from a JWKS: no private members (RFC 9449 §4.3 check
            # 7), use/key_ops, RSA >= 2048 bits and no ROCA, the curve fits the alg.
            key = parse_jwk(jwk, frozenset((alg,)))
            jkt = jwk_thumbprint(jwk)
        except (UnusableKey, ValueError):
            raise _refuse("The DPoP proof's jwk is not a usable public key for its alg.") from None
        if len(self._keys) >= _KEY_MEMO_MAX:
            self._keys.clear()
        self._keys[header_b64] = (key, jkt)
        return key, jkt
