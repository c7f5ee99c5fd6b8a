"""The proof checks of RFC 9449 §4.3, one row each, on the I/O-free ``ProofChecker``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from jwtgate import InvalidDPoPProof, UseDPoPNonce
from jwtgate._verify.dpop import (
    MAX_PROOF_BYTES,
    ProofChecker,
    access_token_hash,
    jwk_thumbprint,
    normalize_htu,
)
from jwtgate._verify.dpop_nonce import NonceKeeper
from jwtgate.testing import DevKey, dpop_proof

NOW = 1_800_000_000.0
TOKEN = "header.payload.signature"
SECRET = "s" * 32


def checker(**kwargs: Any) -> ProofChecker:
    kwargs.setdefault("max_age", 60.0)
    kwargs.setdefault("leeway", 5.0)
    return ProofChecker(("ES256", "RS256", "EdDSA"), **kwargs)


def check(proof: str, *, method: str = "GET", url: str = "https://api.test/items?x=1",
          token: str | None = TOKEN, **kwargs: Any) -> Any:  # fmt: skip
    return checker(**kwargs).check(proof, method=method, url=url, access_token=token, now=NOW)


def make(key: DevKey, **kwargs: Any) -> str:
    kwargs.setdefault("iat", NOW)
    kwargs.setdefault("access_token", TOKEN)
    return dpop_proof(key, kwargs.pop("method", "GET"), kwargs.pop("url", "https://api.test/items"),
                      **kwargs)  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_header(proof: str, **members: Any) -> str:
    """*proof* with its header changed (the signature no longer matters for these rows)."""
    header = json.loads(base64.urlsafe_b64decode(proof.split(".", maxsplit=1)[0] + "=="))
    header.update(members)
    return _b64(json.dumps(header).encode()) + proof[proof.index(".") :]


def test_a_valid_proof_passes_and_names_its_key(client_key: DevKey) -> None:
    checked = check(make(client_key))
    assert checked.jkt == client_key.thumbprint()
    # Query and fragment are ignored on both sides (§4.3 check 9).
    assert check(make(client_key, url="https://api.test/items?other#f")).jkt == checked.jkt


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_every_accepted_algorithm_verifies(alg: str) -> None:
    key = DevKey.generate(alg)
    assert check(make(key)).jkt == key.thumbprint()


def test_the_rfc_7638_example_thumbprint() -> None:
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2"
        "QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6W"
        "eZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
    }  # fmt: skip
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_ath_is_the_base64url_sha256_of_the_token() -> None:
    # RFC 9449 §7.1's example token and ath.
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert access_token_hash(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://API.test:443/a", "https://api.test/a", id="case-and-default-port"),
        pytest.param("http://api.test:80", "http://api.test/", id="empty-path"),
        pytest.param("https://api.test:8443/a?b#c", "https://api.test:8443/a", id="query-fragment"),
        pytest.param("https://api.test/%7euser/%2f", "https://api.test/~user/%2F", id="escapes"),
        pytest.param("https://[::1]:9/x", "https://[::1]:9/x", id="ipv6"),
        pytest.param("ftp://api.test/a", None, id="other-scheme"),
        pytest.param("https://u:p@api.test/a", None, id="userinfo"),
        pytest.param("https://api.test:99999/a", None, id="bad-port"),
        pytest.param("/items", None, id="relative"),
    ],
)
def test_htu_normalization(url: str, expected: str | None) -> None:
    assert normalize_htu(url) == expected


Change = Callable[[DevKey, DevKey], str]

REFUSED: list[Any] = [
    pytest.param(lambda k, o: make(k, method="POST"), id="htm-other-method"),
    pytest.param(lambda k, o: make(k, method="get"), id="htm-lowercase"),
    pytest.param(lambda k, o: make(k, url="https://api.test/other"), id="htu-other-path"),
    pytest.param(lambda k, o: make(k, url="https://evil.test/items"), id="htu-other-host"),
    pytest.param(lambda k, o: make(k, url="http://api.test/items"), id="htu-other-scheme"),
    pytest.param(lambda k, o: make(k, url="https://api.test:444/items"), id="htu-other-port"),
    pytest.param(lambda k, o: make(k, claims={"htu": None}), id="htu-missing"),
    pytest.param(lambda k, o: make(k, claims={"htu": ["https://api.test/items"]}), id="htu-list"),
    pytest.param(lambda k, o: make(k, claims={"htm": None}), id="htm-missing"),
    pytest.param(lambda k, o: make(k, claims={"jti": None}), id="jti-missing"),
    pytest.param(lambda k, o: make(k, claims={"jti": ""}), id="jti-empty"),
    pytest.param(lambda k, o: make(k, claims={"jti": 7}), id="jti-number"),
    pytest.param(lambda k, o: make(k, claims={"jti": "j" * 257}), id="jti-huge"),
    pytest.param(lambda k, o: make(k, claims={"iat": None}), id="iat-missing"),
    pytest.param(lambda k, o: make(k, claims={"iat": "1800000000"}), id="iat-string"),
    pytest.param(lambda k, o: make(k, claims={"iat": True}), id="iat-bool"),
    pytest.param(lambda k, o: make(k, iat=NOW + 6), id="iat-future-beyond-leeway"),
    pytest.param(lambda k, o: make(k, iat=NOW - 66), id="iat-too-old"),
    pytest.param(lambda k, o: make(k, access_token=None), id="ath-missing"),
    pytest.param(lambda k, o: make(k, access_token="another.token.value"), id="ath-other-token"),
    pytest.param(lambda k, o: make(k, claims={"ath": 5}), id="ath-number"),
    pytest.param(lambda k, o: make(k, claims={"ath": "é"}), id="ath-non-ascii"),
    pytest.param(lambda k, o: make(k, headers={"typ": "JWT"}), id="typ-jwt"),
    pytest.param(lambda k, o: make(k, headers={"typ": None}), id="typ-missing"),
    pytest.param(lambda k, o: make(k, headers={"typ": "at+jwt"}), id="typ-access-token"),
    pytest.param(lambda k, o: make(k, headers={"jwk": None}), id="jwk-missing"),
    pytest.param(lambda k, o: make(k, headers={"jwk": "key"}), id="jwk-string"),
    pytest.param(lambda k, o: make(k, headers={"jwk": o.public_jwk}), id="jwk-other-key"),
    pytest.param(lambda k, o: make(k, headers={"crit": ["exp"]}), id="crit"),
    pytest.param(lambda k, o: with_header(make(k), alg="none"), id="alg-none"),
    pytest.param(lambda k, o: with_header(make(k), alg="HS256"), id="alg-hs256"),
    pytest.param(lambda k, o: with_header(make(k), alg="ES384"), id="alg-wrong-for-key"),
    pytest.param(lambda k, o: with_header(make(k), alg="PS256"), id="alg-not-allowed"),
    pytest.param(
        lambda k, o: with_header(make(k), jwk={**k.public_jwk, "d": "AAAA"}), id="jwk-private-d"
    ),
    pytest.param(
        lambda k, o: with_header(make(k), jwk={"kty": "oct", "k": "c2VjcmV0"}), id="jwk-symmetric"
    ),
    pytest.param(
        lambda k, o: with_header(make(k), jwk={**k.public_jwk, "use": "enc"}), id="jwk-use-enc"
    ),
    pytest.param(
        lambda k, o: with_header(make(k), jwk={**k.public_jwk, "crv": "P-384"}),
        id="jwk-wrong-curve",
    ),
    pytest.param(lambda k, o: make(k)[:-4] + "AAAA", id="signature-changed"),
    pytest.param(lambda k, o: make(k).rsplit(".", 1)[0] + ".", id="signature-empty"),
    pytest.param(lambda k, o: make(k) + "." + make(k), id="two-proofs-joined"),
    pytest.param(lambda k, o: "x" * (MAX_PROOF_BYTES + 1), id="huge"),
    pytest.param(lambda k, o: "not a jwt", id="garbage"),
    pytest.param(lambda k, o: "", id="empty"),
]


@pytest.mark.parametrize("change", REFUSED)
def test_a_bad_proof_is_refused(change: Change, client_key: DevKey, other_key: DevKey) -> None:
    with pytest.raises(InvalidDPoPProof) as caught:
        check(change(client_key, other_key))
    assert caught.value.error == "invalid_dpop_proof"
    assert caught.value.scheme == "DPoP"


def test_a_proof_with_a_private_rsa_key_is_refused() -> None:
    key = DevKey.generate("RS256")
    private = key.private_key.private_numbers()
    extra = {"d": _b64(private.d.to_bytes(256, "big")), "p": "AQAB"}
    with pytest.raises(InvalidDPoPProof, match="jwk"):
        check(make(key, headers={"jwk": {**key.public_jwk, **extra}}))


def test_the_proof_for_a_bearer_less_check_needs_no_ath(client_key: DevKey) -> None:
    assert check(make(client_key, access_token=None), token=None).jkt == client_key.thumbprint()


def test_the_iat_window_has_leeway_both_sides(client_key: DevKey) -> None:
    assert check(make(client_key, iat=NOW + 5))
    assert check(make(client_key, iat=NOW - 65))
    assert checker().replay_ttl == 70.0


def test_nonces_are_required_when_on(client_key: DevKey) -> None:
    keeper = NonceKeeper([SECRET], 300)
    with pytest.raises(UseDPoPNonce) as caught:
        check(make(client_key), nonces=keeper)
    assert caught.value.error == "use_dpop_nonce"
    assert caught.value.nonce == keeper.current(NOW)
    assert check(make(client_key, nonce=keeper.current(NOW)), nonces=keeper)
    with pytest.raises(UseDPoPNonce):
        check(make(client_key, nonce="forged"), nonces=keeper)


@pytest.mark.parametrize(
    ("made_at", "accepted"),
    [
        pytest.param(NOW, True, id="current-slot"),
        pytest.param(NOW - 300, True, id="previous-slot"),
        pytest.param(NOW - 600, False, id="two-slots-ago"),
        pytest.param(NOW + 300, False, id="next-slot"),
    ],
)
def test_nonce_slots(made_at: float, accepted: bool) -> None:
    keeper = NonceKeeper([SECRET], 300)
    assert keeper.valid(keeper.current(made_at), NOW) is accepted


def test_nonces_are_stateless_and_rotate() -> None:
    old = NonceKeeper(["o" * 32], 300).current(NOW)
    # Another worker with the same secrets accepts it; after rotation it still checks.
    assert NonceKeeper(["o" * 32], 300).valid(old, NOW)
    assert NonceKeeper(["n" * 32, "o" * 32], 300).valid(old, NOW)
    assert not NonceKeeper(["n" * 32], 300).valid(old, NOW)
    for bad in (None, 5, "", "!" * 10, "A" * 65, old[:-1], old + "A", "é"):
        assert not NonceKeeper(["o" * 32], 300).valid(bad, NOW)
