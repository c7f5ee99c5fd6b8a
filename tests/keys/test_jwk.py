import base64
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtgate import ASYMMETRIC_ALGORITHMS, InvalidAlgorithm, KeySet, UnknownKey
from jwtgate.testing import DevKey

ALLOWED = ASYMMETRIC_ALGORITHMS


def b64uint(n: int) -> str:
    return (
        base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    )


def small_rsa_jwk(bits: int = 1024) -> dict[str, Any]:
    numbers = (
        rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()
    )
    return {"kty": "RSA", "kid": f"rsa-{bits}", "n": b64uint(numbers.n), "e": b64uint(numbers.e)}


def test_parses_rsa_ec_and_okp_keys(rsa_key: DevKey, ec_key: DevKey, ed_key: DevKey) -> None:
    keys = KeySet.from_dict(
        {"keys": [rsa_key.public_jwk, ec_key.public_jwk, ed_key.public_jwk]}, ALLOWED
    )
    assert keys.kids == ("rsa-1", "ec-1", "ed-1")
    assert keys.find("rsa-1", "RS256").kty == "RSA"
    assert keys.find("ec-1", "ES256").kty == "EC"
    assert keys.find("ed-1", "EdDSA").kty == "OKP"


def test_rsa_key_without_alg_fits_every_rsa_algorithm(rsa_key: DevKey) -> None:
    jwk = {k: v for k, v in rsa_key.public_jwk.items() if k != "alg"}
    key = KeySet.from_dict({"keys": [jwk]}, ALLOWED).find("rsa-1", "PS384")
    assert key.algorithms == {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}


def test_declared_alg_restricts_the_key(rsa_key: DevKey) -> None:
    keys = KeySet.from_dict({"keys": [rsa_key.public_jwk]}, ALLOWED)  # alg RS256
    with pytest.raises(InvalidAlgorithm):
        keys.find("rsa-1", "PS256")


def test_allowlist_restricts_the_key(rsa_key: DevKey, ec_key: DevKey) -> None:
    keys = KeySet.from_dict({"keys": [rsa_key.public_jwk, ec_key.public_jwk]}, ["ES256"])
    assert keys.kids == ("ec-1",)
    assert "rsa-1" in keys.skipped[0]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(lambda j: {**j, "use": "enc"}, "use is 'enc'", id="use-enc"),
        pytest.param(lambda j: {**j, "key_ops": ["encrypt"]}, "key_ops", id="key-ops-no-verify"),
        pytest.param(lambda j: {**j, "key_ops": "verify"}, "key_ops", id="key-ops-not-list"),
        pytest.param(lambda j: {**j, "kty": "oct", "k": "c2VjcmV0"}, "symmetric", id="oct"),
        pytest.param(lambda j: {**j, "kty": "XYZ"}, "unsupported kty", id="unknown-kty"),
        pytest.param(lambda j: {**j, "alg": "ES256"}, "does not fit", id="alg-kty-mismatch"),
        pytest.param(lambda j: {**j, "alg": "HS256"}, "does not fit", id="alg-hs256"),
        pytest.param(lambda j: {**j, "n": "!!!"}, "invalid key material", id="bad-modulus"),
        pytest.param(
            lambda j: {k: v for k, v in j.items() if k != "e"},
            "invalid key material",
            id="no-exponent",
        ),
        pytest.param(lambda j: {**j, "kid": 5}, "kid is not a string", id="kid-int"),
    ],
)
def test_unusable_rsa_keys_are_skipped(rsa_key: DevKey, mutate: Any, reason: str) -> None:
    keys = KeySet.from_dict({"keys": [mutate(rsa_key.public_jwk)]}, ALLOWED)
    assert len(keys) == 0
    assert reason in keys.skipped[0]


def test_short_rsa_keys_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jwtgate"):
        keys = KeySet.from_dict({"keys": [small_rsa_jwk(1024)]}, ALLOWED)
    assert len(keys) == 0
    assert "1024 bits" in keys.skipped[0]
    assert "rsa-1024" in caplog.text


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(lambda j: {**j, "crv": "P-384"}, "invalid key material", id="wrong-curve"),
        pytest.param(lambda j: {**j, "crv": "P-999"}, "unsupported EC curve", id="unknown-curve"),
        pytest.param(lambda j: {**j, "y": j["x"]}, "invalid key material", id="point-off-curve"),
    ],
)
def test_unusable_ec_keys_are_skipped(ec_key: DevKey, mutate: Any, reason: str) -> None:
    keys = KeySet.from_dict({"keys": [mutate(ec_key.public_jwk)]}, ALLOWED)
    assert len(keys) == 0
    assert reason in keys.skipped[0]


def test_x25519_is_not_a_signature_key(ed_key: DevKey) -> None:
    keys = KeySet.from_dict({"keys": [{**ed_key.public_jwk, "crv": "X25519"}]}, ALLOWED)
    assert "not a signature curve" in keys.skipped[0]


def test_one_bad_key_does_not_spoil_the_set(rsa_key: DevKey) -> None:
    keys = KeySet.from_dict({"keys": ["junk", {"kty": "RSA"}, rsa_key.public_jwk]}, ALLOWED)
    assert keys.kids == ("rsa-1",)
    assert len(keys.skipped) == 2


def test_private_members_are_never_kept(rsa_key: DevKey, caplog: pytest.LogCaptureFixture) -> None:
    private = DevKey.generate("ES256", kid="leaky")
    from jwt.algorithms import ECAlgorithm

    jwk = ECAlgorithm.to_jwk(private.private_key, as_dict=True)
    jwk["kid"] = "leaky"
    with caplog.at_level(logging.WARNING, logger="jwtgate"):
        keys = KeySet.from_dict({"keys": [jwk, rsa_key.public_jwk]}, ALLOWED)
    # A published private key is known to everyone: the key is refused, not trimmed.
    assert keys.kids == ("rsa-1",)
    assert not keys.has_kid("leaky")
    assert "private key material" in caplog.text
    assert jwk["d"] not in caplog.text


@pytest.mark.parametrize(
    "document",
    [b"not json", b"[]", b'{"keys": {}}', b'{"nokeys": []}', b"[" * 100000],
)
def test_malformed_documents_are_rejected_as_a_whole(document: bytes) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        KeySet.from_json(document, ALLOWED)


def test_lookup_without_kid_needs_exactly_one_fitting_key(
    rsa_key: DevKey, rsa_key_2: DevKey, ec_key: DevKey
) -> None:
    one = KeySet.from_dict({"keys": [rsa_key.public_jwk, ec_key.public_jwk]}, ALLOWED)
    assert one.find(None, "RS256").kid == "rsa-1"
    two = KeySet.from_dict({"keys": [rsa_key.public_jwk, rsa_key_2.public_jwk]}, ALLOWED)
    with pytest.raises(UnknownKey, match="several"):
        two.find(None, "RS256")
    with pytest.raises(UnknownKey):
        one.find(None, "ES384")


def test_unknown_kid(rsa_key: DevKey) -> None:
    keys = KeySet.from_dict({"keys": [rsa_key.public_jwk]}, ALLOWED)
    with pytest.raises(UnknownKey):
        keys.find("nope", "RS256")
    assert keys.has_kid("rsa-1")
    assert not keys.has_kid("nope")
