"""Attacks on the key set: keys jwtgate must not use, even when the issuer publishes them.

Each row edits the victim's JWKS (the victim's own keys stay published, so a refused
key means a 401, not a 503) and sends a token the tampered key would verify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from jwtgate.testing import DevKey

from forge import (
    Kit,
    assert_answer,
    attacker,
    b64,
    debug_logs,
    forge,
    hmac_sign,
    make_kit,
    sign,
    weak_rsa,
)

pytestmark = pytest.mark.anyio
kit = pytest.fixture(make_kit)
Keys = list[dict[str, Any]]


def _publish(jwk: dict[str, Any]) -> Callable[[Keys], Keys]:
    return lambda keys: [*keys, jwk]


def _public(key: DevKey, **members: Any) -> dict[str, Any]:
    return {**key.public_jwk, **members}


def _private(key: DevKey, algorithm: Any, **members: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = algorithm.to_jwk(key.private_key, as_dict=True)
    jwk.pop("key_ops", None)  # PyJWT adds ["sign"]; a careless issuer would not.
    return {**jwk, "kid": key.kid, "alg": key.alg, "use": "sig", **members}


def _off_curve() -> dict[str, Any]:
    jwk = _public(attacker("ES256", "off-curve"))
    y = int.from_bytes(b64_decode(jwk["y"]), "big")
    jwk["y"] = b64(((y + 1) % 2**256).to_bytes(32, "big"))
    return jwk


def _wrong_curve() -> dict[str, Any]:
    # A P-384 point labelled P-256 (coordinates of the wrong size and curve).
    p384 = attacker("ES384", "wrong-curve")
    return {**p384.public_jwk, "crv": "P-256", "alg": "ES256"}


def _x25519() -> dict[str, Any]:
    public = x25519.X25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "X25519", "x": b64(raw), "kid": "x25519", "alg": "EdDSA"}


def b64_decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _token_by(key: DevKey, alg: str | None = None, kid: str | None = None) -> Callable[[Kit], str]:
    def attack(k: Kit) -> str:
        header = {"alg": alg or key.alg, "kid": kid or key.kid, "typ": "at+jwt"}
        return sign(header, k.claims(), key, alg)

    return attack


_SECRET = b"a-shared-secret-published-as-oct"

KEY_ATTACKS = [
    pytest.param(
        _publish(_public(weak_rsa(1024))),
        _token_by(weak_rsa(1024)),
        "1024 bits",
        id="rsa-1024-bits",
    ),
    pytest.param(
        _publish(_public(weak_rsa(1024), kid=None)),
        lambda k: sign({"alg": "RS256"}, k.claims(), weak_rsa(1024)),
        "1024 bits",
        id="rsa-1024-bits-no-kid",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "enc-1"), use="enc")),
        _token_by(attacker("RS256", "enc-1")),
        "use is 'enc'",
        id="use-enc",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "ops-1"), key_ops=["encrypt", "wrapKey"])),
        _token_by(attacker("RS256", "ops-1")),
        "key_ops",
        id="key-ops-without-verify",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "ops-2"), key_ops="verify")),
        _token_by(attacker("RS256", "ops-2")),
        "key_ops",
        id="key-ops-not-a-list",
    ),
    # Regression: a JWKS publishing private parts was used (its public half); anyone
    # reading the public JWKS could then mint tokens. The key is now refused.
    pytest.param(
        _publish(_private(attacker("RS256", "leaked-rsa"), RSAAlgorithm)),
        _token_by(attacker("RS256", "leaked-rsa")),
        "private key material",
        id="jwk-with-private-rsa-parts",
    ),
    pytest.param(
        _publish(_private(attacker("ES256", "leaked-ec"), ECAlgorithm)),
        _token_by(attacker("ES256", "leaked-ec")),
        "private key material",
        id="jwk-with-private-ec-parts",
    ),
    pytest.param(
        _publish(_private(attacker("EdDSA", "leaked-ed"), OKPAlgorithm)),
        _token_by(attacker("EdDSA", "leaked-ed")),
        "private key material",
        id="jwk-with-private-okp-parts",
    ),
    pytest.param(
        _publish(_off_curve()),
        _token_by(attacker("ES256", "off-curve")),
        "invalid key material",
        id="ec-point-off-curve",
    ),
    pytest.param(
        _publish(_wrong_curve()),
        _token_by(attacker("ES384", "wrong-curve"), "ES256"),
        "invalid key material",
        id="ec-point-of-another-curve",
    ),
    pytest.param(
        _publish(_public(attacker("ES384", "p384-as-es256"), alg="ES256")),
        _token_by(attacker("ES384", "p384-as-es256"), "ES256"),
        "does not fit",
        id="crv-p384-alg-es256",
    ),
    pytest.param(
        _publish(_public(attacker("ES256", "ec-as-rsa"), alg="RS256")),
        _token_by(attacker("RS256", "ec-as-rsa")),
        "does not fit",
        id="kty-ec-alg-rs256",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "rsa-as-es"), alg="ES256")),
        _token_by(attacker("ES256", "rsa-as-es")),
        "does not fit",
        id="kty-rsa-alg-es256",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "rsa-none"), alg="none")),
        lambda k: forge({"alg": "none", "kid": "rsa-none"}, k.claims(), b""),
        "does not fit",
        id="jwk-alg-none",
    ),
    pytest.param(
        _publish({**_public(attacker("ES256", "ec-as-okp")), "kty": "OKP", "crv": "Ed25519"}),
        _token_by(attacker("EdDSA", "ec-as-okp")),
        "does not fit",
        id="kty-okp-with-ec-members",
    ),
    pytest.param(
        _publish(_x25519()),
        _token_by(attacker("EdDSA", "x25519")),
        "not a signature curve",
        id="okp-x25519",
    ),
    pytest.param(
        _publish({"kty": "oct", "kid": "hmac", "alg": "HS256", "k": b64(_SECRET)}),
        lambda k: hmac_sign({"alg": "HS256", "kid": "hmac"}, k.claims(), _SECRET),
        "symmetric (oct)",
        id="oct-key-hs256",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "rsa-9")) | {"kid": 9}),
        _token_by(attacker("RS256", "rsa-9")),
        "kid is not a string",
        id="jwk-kid-not-a-string",
    ),
    pytest.param(
        _publish(_public(attacker("RS256", "x5u-key"), x5u="https://evil.test/evil/c.pem")),
        _token_by(attacker("RS256", "other-kid"), kid="x5u-key"),
        "",
        id="jwk-x5u-member-not-fetched",
    ),
    pytest.param(
        lambda keys: [*keys, "not-an-object", None, 1, []],
        _token_by(attacker("RS256", "rsa-1")),
        "not a JSON object",
        id="jwks-junk-entries",
    ),
]


@pytest.mark.parametrize(("edit", "attack", "reason"), KEY_ATTACKS)
async def test_unusable_published_key_is_never_used(
    kit: Kit, caplog: pytest.LogCaptureFixture, edit: Any, attack: Any, reason: str
) -> None:
    debug_logs(caplog)
    kit.issuer.edit = edit
    # The victim's own keys still work next to the refused one ...
    assert (await kit.send(kit.token(kit.ec))).status_code == 200
    # ... which is refused, when the set is loaded, for the reason the row is about.
    assert reason in caplog.text
    token = attack(kit)
    response = await kit.send(token)
    assert_answer(response, 401, "invalid_token", secrets=[token], caplog=caplog, issuer=kit.issuer)


async def test_private_key_material_is_not_logged(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    leaked = _private(attacker("RS256", "leaked-rsa"), RSAAlgorithm)
    kit.issuer.edit = _publish(leaked)
    with caplog.at_level(logging.DEBUG):
        await kit.send(kit.token())
    assert "private key material" in caplog.text
    for member in ("d", "p", "q", "dp", "dq", "qi"):
        assert leaked[member] not in caplog.text


def test_ec_point_off_curve_is_rejected_by_the_loader() -> None:
    """The row above relies on cryptography's on-curve check; show it directly."""
    jwk = _off_curve()
    with pytest.raises(ValueError):
        ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64_decode(jwk["x"]), "big"),
            int.from_bytes(b64_decode(jwk["y"]), "big"),
            ec.SECP256R1(),
        ).public_key()
