"""RSA keys with the ROCA fingerprint (CVE-2017-15361) are skipped, naming the kid."""

from __future__ import annotations

import base64
import logging
import math
import random

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtgate import KeySet
from jwtgate._keys.roca import has_roca_fingerprint

# The primes dividing every Infineon M (Nemec et al., CCS 2017), written out independently.
PRIMES = [p for p in range(3, 168) if all(p % d for d in range(2, p))]


def roca_modulus(seed: int) -> int:
    """A 2048-bit modulus shaped like the Infineon generator's: p, q = k*M + 65537^a mod M."""
    rng = random.Random(seed)
    m = 2 * math.prod(PRIMES)

    def factor() -> int:
        return (rng.getrandbits(1030) // m) * m + pow(65537, rng.randrange(1, 10**9), m)

    while True:
        n = factor() * factor()
        if n.bit_length() >= 2048:
            return n


def jwk_of(n: int, kid: str) -> dict[str, str]:
    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "RSA", "kid": kid, "n": b64(n), "e": b64(65537)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roca_moduli_are_detected(seed: int) -> None:
    assert has_roca_fingerprint(roca_modulus(seed))


def test_generated_keys_are_not_flagged() -> None:
    for _ in range(3):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert not has_roca_fingerprint(key.public_key().public_numbers().n)


def test_a_roca_key_is_skipped_with_a_warning_naming_its_kid(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="jwtgate")
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    keys = KeySet.from_dict(
        {"keys": [jwk_of(roca_modulus(1), "infineon-1"), jwk_of(good.public_numbers().n, "ok")]},
        ["RS256"],
    )
    assert keys.kids == ("ok",)
    assert "kid='infineon-1'" in caplog.text
    assert "ROCA" in caplog.text
    assert "CVE-2017-15361" in keys.skipped[0]
