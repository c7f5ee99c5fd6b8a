"""The development issuer's signing keys: generated, loaded from PEM, published as JWKs."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import Algorithm, OKPAlgorithm, get_default_algorithms

__all__ = ["DEV_ALGORITHMS", "DevKey"]

_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
_PYJWT: dict[str, Algorithm] = {
    **get_default_algorithms(),
    # RFC 9864's fully specified names: EdDSA on one named curve.
    "Ed25519": OKPAlgorithm(),
    "Ed448": OKPAlgorithm(),
}
#: Every algorithm ``DevKey.generate`` (so ``jwtgate mint --alg``) can sign with.
DEV_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    "EdDSA", "Ed25519", "Ed448",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class DevKey:
    """A signing key of the development issuer and its public JWK."""

    kid: str
    alg: str
    private_key: Any = field(repr=False)

    @classmethod
    def generate(cls, alg: str = "RS256", kid: str | None = None) -> DevKey:
        """A fresh key for *alg* (RSA 2048 for RS*/PS*, the matching curve for ES*, Ed25519
        for EdDSA and Ed25519, Ed448 for Ed448): one of ``DEV_ALGORITHMS``."""
        private_key: Any
        if alg[:2] in ("RS", "PS"):
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg in _CURVES:
            private_key = ec.generate_private_key(_CURVES[alg])
        elif alg in ("EdDSA", "Ed25519"):
            private_key = ed25519.Ed25519PrivateKey.generate()
        elif alg == "Ed448":
            private_key = ed448.Ed448PrivateKey.generate()
        else:
            raise ValueError(f"the development issuer cannot sign with {alg!r}")
        return cls(
            kid=kid or f"dev-{alg.lower()}-{uuid.uuid4().hex[:8]}", alg=alg, private_key=private_key
        )

    @classmethod
    def from_pem(cls, pem: bytes, alg: str = "RS256", kid: str | None = None) -> DevKey:
        """Load a private key from PEM; *kid* defaults to the RFC 7638 thumbprint."""
        private_key = serialization.load_pem_private_key(pem, password=None)
        key = cls(kid="", alg=alg, private_key=private_key)
        try:
            key.public_jwk  # noqa: B018  (checks that the key fits alg)
        except Exception:
            raise ValueError(f"the PEM key does not fit the algorithm {alg!r}") from None
        return cls(kid=kid or key.thumbprint(), alg=alg, private_key=private_key)

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (development only)."""
        pem: bytes = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem

    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256, base64url), a stable ``kid``."""
        jwk = self.public_jwk
        members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}.get(
            jwk["kty"], ("crv", "kty", "x")
        )
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK, with ``kid``, ``alg`` and ``use``."""
        jwk: dict[str, Any] = _PYJWT[self.alg].to_jwk(self.private_key.public_key(), as_dict=True)
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk
