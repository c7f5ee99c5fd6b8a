"""Builders of the attack catalogue's rows: each returns an ``Attack`` (a kit in, a token out)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from jwtgate.testing import DevKey

from forge import (
    Kit,
    attacker,
    b64,
    forge,
    hmac_sign,
    sign,
    signature_of,
    with_signature,
)

Attack = Callable[[Kit], str]

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _none(spelling: str, signature: bytes = b"") -> Attack:
    return lambda k: forge(
        {"alg": spelling, "kid": "rsa-1", "typ": "at+jwt"}, k.claims(), signature
    )


def _pem(key: DevKey) -> bytes:
    return key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _confused(
    secret: Callable[[Kit], bytes], alg: str = "HS256", kid: str | None = "rsa-1"
) -> Attack:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    header = {"alg": alg, "typ": "at+jwt"} | ({"kid": kid} if kid else {})
    return lambda k: hmac_sign(header, k.claims(), secret(k), digest)


def _ecdsa(signature: Callable[[Kit, bytes], bytes]) -> Attack:
    """An ES256 token for the victim's P-256 key ``ec-1``, with a crafted signature."""

    def attack(k: Kit) -> str:
        head = f"{b64(json.dumps(k.header(k.ec)))}.{b64(json.dumps(k.claims()))}"
        return f"{head}.{b64(signature(k, head.encode()))}"

    return attack


def _raw(r: int, s: int, size: int = 32) -> bytes:
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _der(k: Kit, message: bytes) -> bytes:
    return k.ec.private_key.sign(message, ec.ECDSA(hashes.SHA256()))


def _valid_es256(k: Kit, message: bytes) -> bytes:
    token = sign(k.header(k.ec), k.claims(), k.ec)
    return signature_of(token)


def _non_canonical(token: str) -> str:
    # Same signature bytes, another spelling: flip the unused low bits of the last character.
    signature = token.rsplit(".", 1)[1]
    last = ALPHABET.index(signature[-1])
    unused = 4 if len(signature) % 4 == 2 else 2
    other = ALPHABET[last ^ ((1 << unused) - 1)]
    return with_signature(token, signature[:-1] + other)


def _truncated(token: str, cut: int = 6) -> str:
    return with_signature(token, signature_of(token)[:-cut])


def _embedded(member: str, value: Callable[[Kit], Any], kid: str | None = "rsa-1") -> Attack:
    """Signed by the attacker's key, which the header offers by value or by URL."""

    def attack(k: Kit) -> str:
        evil = attacker()
        header = {"alg": "RS256", "typ": "at+jwt", member: value(k)}
        if kid is not None:
            header["kid"] = kid
        return sign(header, k.claims(), evil)

    return attack


def _kid(kid: Any) -> Attack:
    return lambda k: sign({"alg": "RS256", "typ": "at+jwt", "kid": kid}, k.claims(), attacker())


def _raw_header(text: str) -> Attack:
    """A header given as raw JSON text, *validly signed* by the victim's RSA key."""
    return lambda k: sign(text, k.claims(), k.rsa)


def _raw_payload(text: str | bytes) -> Attack:
    """A payload given as raw JSON text, *validly signed* by the victim's RSA key."""
    return lambda k: sign(k.header(), text, k.rsa)


def _claims(**overrides: Any) -> Attack:
    """Valid signature and header, claims overridden (None removes one)."""
    return lambda k: k.token(**overrides)


def _header(**overrides: Any) -> Attack:
    """Valid signature and claims, header overridden (None removes a member)."""
    return lambda k: k.token(header=overrides)


def _payload_json(k: Kit, **overrides: Any) -> str:
    return json.dumps(k.claims(**overrides))


