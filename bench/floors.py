"""Floors: raw ``cryptography`` verify + base64url/JSON parse, per algorithm.

``floor`` times the bare work in a loop. ``VerifyOnlyMiddleware``, served by uvicorn in
the HTTP benchmark, does less still (the signature check alone): the ceiling of any RS256
verifier there.
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


class VerifyOnlyMiddleware:
    """The RS256 signature check alone, as a pure ASGI middleware: the ceiling over HTTP.

    Every RS256 verifier does at least this per distinct token: find the header, cut the
    signature off, base64url-decode it and verify it with a public key (objects built
    once). It reads no JSON, checks no claim and picks no key by ``kid`` (it tries the
    first RSA key of the set), so no real verifier can be faster.
    """

    def __init__(self, app: Any, jwks: dict[str, Any]) -> None:
        self.app = app
        jwk = next(jwk for jwk in jwks["keys"] if jwk.get("kty") == "RSA")
        self.key = RSAAlgorithm.from_jwk(jwk)
        self.padding, self.hash = padding.PKCS1v15(), hashes.SHA256()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            try:
                for name, value in scope["headers"]:
                    if name == b"authorization":
                        signed, _, signature = value[7:].rpartition(b".")
                        sig = base64.urlsafe_b64decode(signature + b"==")
                        self.key.verify(sig, signed, self.padding, self.hash)  # type: ignore[union-attr]
                        break
                else:
                    raise ValueError("no token")
            except Exception:
                await _UNAUTHORIZED(scope, receive, send)
                return
        await self.app(scope, receive, send)
