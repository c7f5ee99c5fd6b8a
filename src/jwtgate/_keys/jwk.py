"""JSON Web Keys: a JWKS document parsed once into ready-to-use public keys.

Parsing happens when a key set is fetched, never per request. Keys that cannot
be used for verification are skipped with a warning naming their ``kid``; one bad
key never makes the whole set unusable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt.algorithms import (
    Algorithm,
    ECAlgorithm,
    OKPAlgorithm,
    RSAAlgorithm,
    get_default_algorithms,
)

from .._exceptions import InvalidAlgorithm, UnknownKey
from .roca import has_roca_fingerprint

__all__ = ["JWK", "MIN_RSA_BITS", "KeySet", "UnusableKey", "parse_jwk"]

logger = logging.getLogger("jwtgate")

#: RSA keys shorter than this are never used (RFC 7518 §3.3 requires 2048 bits).
MIN_RSA_BITS = 2048

# The JOSE primitives are PyJWT's; jwtgate only decides which one may run.
_ALGORITHMS: dict[str, Algorithm] = {
    **get_default_algorithms(),
    # RFC 9864: Ed25519 and Ed448 are EdDSA on one named curve; which curve a key may
    # verify is decided by _OKP_ALGS below, PyJWT's OKP primitive verifies either.
    "Ed25519": OKPAlgorithm(),
    "Ed448": OKPAlgorithm(),
}
_RSA_ALGS = frozenset(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"))
_EC_ALGS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}
# An OKP key fits the polymorphic EdDSA and the fully specified name of its own curve.
_OKP_ALGS = {
    "Ed25519": frozenset(("EdDSA", "Ed25519")),
    "Ed448": frozenset(("EdDSA", "Ed448")),
}


@dataclass(frozen=True, eq=False)
class JWK:
    """One public verification key and the algorithms it may verify."""

    kid: str | None
    kty: str
    algorithms: frozenset[str]
    public_key: Any = field(repr=False)
    #: The JWK members as published (public members only), for inspection.
    jwk: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def verify(self, alg: str, signing_input: bytes, signature: bytes) -> bool:
        """True when *signature* over *signing_input* verifies with this key under *alg*."""
        if alg not in self.algorithms:  # Defence in depth: callers check this too.
            return False
        try:
            return _ALGORITHMS[alg].verify(signing_input, self.public_key, signature)
        except (ValueError, TypeError):  # Malformed signature encodings.
            return False


class KeySet:
    """An immutable set of usable keys, indexed by ``kid``."""

    __slots__ = ("_by_kid", "keys", "skipped")

    def __init__(self, keys: Iterable[JWK], skipped: Iterable[str] = ()) -> None:
        self.keys: tuple[JWK, ...] = tuple(keys)
        #: Why each unusable key was skipped, for inspection and diagnostics.
        self.skipped: tuple[str, ...] = tuple(skipped)
        by_kid: dict[str | None, list[JWK]] = {}
        for key in self.keys:
            by_kid.setdefault(key.kid, []).append(key)
        self._by_kid = {kid: tuple(keys) for kid, keys in by_kid.items()}

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"KeySet(kids={self.kids!r})"

    @property
    def kids(self) -> tuple[str | None, ...]:
        """The ``kid`` of every usable key, in document order."""
        return tuple(key.kid for key in self.keys)

    def has_kid(self, kid: str) -> bool:
        """True when some usable key carries this ``kid``."""
        return kid in self._by_kid

    def find(self, kid: str | None, alg: str) -> JWK:
        """The key that must verify a token with this ``kid`` and ``alg``.

        Raises ``UnknownKey`` when none matches, ``InvalidAlgorithm`` when the ``kid``
        matches but its key cannot be used with ``alg``.
        """
        if kid is not None:
            candidates = self._by_kid.get(kid)
            if candidates is None:
                raise UnknownKey("The token's key is not in the issuer's key set.")
            for key in candidates:
                if alg in key.algorithms:
                    return key
            raise InvalidAlgorithm("The token's algorithm does not fit its key.")
        # RFC 7515 leaves kid optional; guessing between several keys would let a
        # token choose its own verification key, so only an unambiguous match counts.
        fitting = [key for key in self.keys if alg in key.algorithms]
        if len(fitting) == 1:
            return fitting[0]
        if not fitting:
            raise UnknownKey("No key in the issuer's key set fits the token's algorithm.")
        raise UnknownKey("The token has no kid and several keys could verify it.")

    @classmethod
    def from_json(cls, document: bytes | str, allowed: Iterable[str]) -> KeySet:
        """Parse a JWKS document; raises ``ValueError`` if it is not one as a whole."""
        try:
            data = json.loads(document)
        except (ValueError, RecursionError):
            raise ValueError("the JWKS is not valid JSON") from None
        return cls.from_dict(data, allowed)

    @classmethod
    def from_dict(cls, data: Any, allowed: Iterable[str]) -> KeySet:
        """Build a key set from a decoded JWKS object, skipping unusable keys."""
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError('the JWKS is not a JSON object with a "keys" list')
        allowed = frozenset(allowed)
        keys: list[JWK] = []
        skipped: list[str] = []
        for index, jwk in enumerate(data["keys"]):
            try:
                keys.append(parse_jwk(jwk, allowed))
            except UnusableKey as exc:
                kid = jwk.get("kid") if isinstance(jwk, dict) else None
                label = f"kid={kid!r}" if isinstance(kid, str) else f"key #{index}"
                skipped.append(f"{label}: {exc}")
                logger.warning("Skipping JWKS key %s: %s", label, exc)
        return cls(keys, skipped)


class UnusableKey(Exception):
    """A JWK that cannot be used for verification (the reason is the message)."""


def parse_jwk(jwk: Any, allowed: frozenset[str]) -> JWK:
    """Turn one JWK into a ``JWK``; raises ``UnusableKey`` with the reason."""
    if not isinstance(jwk, dict):
        raise UnusableKey("not a JSON object")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UnusableKey("kid is not a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise UnusableKey(f"use is {use!r}, not 'sig'")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise UnusableKey("key_ops does not include 'verify'")
    kty = jwk.get("kty")
    if kty != "oct" and not _PRIVATE_MEMBERS.isdisjoint(jwk):
        # A private key in a public document is known to anyone who fetched it: tokens
        # "signed" with it prove nothing, so the key is refused rather than trimmed.
        raise UnusableKey("publishes private key material, so it is compromised")
    if kty == "RSA":
        fits, public_key = _RSA_ALGS, _load(RSAAlgorithm.from_jwk, jwk)
        if public_key.key_size < MIN_RSA_BITS:
            raise UnusableKey(f"RSA key of {public_key.key_size} bits (minimum {MIN_RSA_BITS})")
        if has_roca_fingerprint(public_key.public_numbers().n):
            raise UnusableKey("RSA key with the ROCA fingerprint (CVE-2017-15361): weak, not used")
    elif kty == "EC":
        alg_for_curve = _EC_ALGS.get(jwk.get("crv"))  # type: ignore[arg-type]
        if alg_for_curve is None:
            raise UnusableKey(f"unsupported EC curve {jwk.get('crv')!r}")
        # cryptography rejects points that are not on the curve here.
        fits, public_key = frozenset((alg_for_curve,)), _load(ECAlgorithm.from_jwk, jwk)
    elif kty == "OKP":
        okp_fits = _OKP_ALGS.get(jwk.get("crv"))  # type: ignore[arg-type]
        if okp_fits is None:
            raise UnusableKey(f"unsupported OKP curve {jwk.get('crv')!r} (not a signature curve)")
        fits, public_key = okp_fits, _load(OKPAlgorithm.from_jwk, jwk)
    elif kty == "oct":
        raise UnusableKey("symmetric (oct) keys are never taken from a JWKS")
    else:
        raise UnusableKey(f"unsupported kty {kty!r}")
    declared = jwk.get("alg")
    if declared is not None:
        if declared not in fits:
            raise UnusableKey(f"alg {declared!r} does not fit a {kty} key")
        fits = frozenset((declared,))
    algorithms = fits & allowed
    if not algorithms:
        raise UnusableKey("none of the allowed algorithms fits this key")
    public = {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}
    return JWK(kid=kid, kty=kty, algorithms=algorithms, public_key=public_key, jwk=public)


_PRIVATE_MEMBERS = frozenset(("d", "p", "q", "dp", "dq", "qi", "oth", "k"))


def _load(loader: Any, jwk: dict[str, Any]) -> Any:
    # This is the one place PyJWT's key errors are caught: any exception from a
    # malformed member (bad base64, wrong lengths, point off the curve) means
    # only that this key is unusable.
    try:
        key = loader(jwk)
    except Exception as exc:
        raise UnusableKey(f"invalid key material ({type(exc).__name__})") from None
    if hasattr(key, "private_bytes"):  # Not reached: private members are refused above.
        raise UnusableKey("publishes private key material, so it is compromised")
    return key
