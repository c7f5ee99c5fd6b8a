"""Floors: raw ``cryptography`` verify + base64url/JSON parse, per algorithm.

``floor`` times the bare work in a loop; ``FloorMiddleware`` is the same work as a pure
ASGI middleware, served by uvicorn in the HTTP benchmark: the ceiling any RS256 verifier
can reach there (it checks no claim, no header field and no key property).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt.algorithms import RSAAlgorithm
from starlette.responses import PlainTextResponse

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
_UNAUTHORIZED = PlainTextResponse("unauthorized", status_code=401)


def _b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _verifier(alg: str, pub: Any) -> Any:
    if alg == "RS256":
        return lambda sig, data: pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return lambda sig, data: pub.verify(sig, data, pss, hashes.SHA256())
    if alg == "ES256":
        ecdsa = ec.ECDSA(hashes.SHA256())

        def es256(sig: bytes, data: bytes) -> None:  # JWS r||s -> DER
            r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            pub.verify(encode_dss_signature(r, s), data, ecdsa)

        return es256
    return pub.verify  # EdDSA (Ed25519)


def floor(alg: str, private_key: Any, tokens: list[str]) -> float:
    """µs per token to parse header and payload and verify the signature."""
    verify = _verifier(alg, private_key.public_key())
    start = time.perf_counter()
    for token in tokens:
        h, p, s = token.split(".")
        json.loads(_b64(h))
        json.loads(_b64(p))
        verify(_b64(s), f"{h}.{p}".encode())
    return (time.perf_counter() - start) / len(tokens) * 1e6


class FloorMiddleware:
    """Split, decode header and payload, pick the key by ``kid``, verify RS256: nothing else."""

    def __init__(self, app: Any, jwks: dict[str, Any]) -> None:
        self.app = app
        self.verifiers = {
            jwk["kid"]: _verifier("RS256", RSAAlgorithm.from_jwk(jwk))
            for jwk in jwks["keys"]
            if jwk.get("kty") == "RSA"
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            try:
                auth = dict(scope["headers"])[b"authorization"].decode("latin-1")
                h, p, s = auth.removeprefix("Bearer ").split(".")
                verify = self.verifiers[json.loads(_b64(h))["kid"]]
                scope["user"] = json.loads(_b64(p))
                verify(_b64(s), f"{h}.{p}".encode())
            except Exception:
                await _UNAUTHORIZED(scope, receive, send)
                return
        await self.app(scope, receive, send)
