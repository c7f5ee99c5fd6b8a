import base64
import time

import pytest

from jwtgate import (
    ExpiredToken,
    InvalidAlgorithm,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    KeySet,
    Settings,
    TokenVerifier,
    UnknownKey,
)
from jwtgate.testing import DevKey, Issuer

ISS = "https://issuer.test"


@pytest.fixture(scope="module")
def all_keys() -> list[DevKey]:
    algs = [
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
    ]
    rsa = DevKey.generate("RS256")
    keys = []
    for alg in algs:
        if alg[:2] in ("RS", "PS"):
            keys.append(DevKey(kid=f"k-{alg}", alg=alg, private_key=rsa.private_key))
        else:
            keys.append(DevKey.generate(alg, kid=f"k-{alg}"))
    return keys


@pytest.fixture
def setup(all_keys: list[DevKey]) -> tuple[Issuer, TokenVerifier, KeySet]:
    issuer = Issuer(ISS, audience="api", keys=all_keys)
    settings = Settings(issuer=ISS, audience="api")
    return issuer, TokenVerifier(settings), KeySet.from_dict(issuer.jwks(), settings.algorithms)


@pytest.mark.parametrize(
    "alg",
    ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
)
def test_every_default_algorithm_verifies(
    setup: tuple[Issuer, TokenVerifier, KeySet], alg: str
) -> None:
    issuer, verifier, keys = setup
    key = next(k for k in issuer.keys if k.alg == alg)
    token = issuer.mint(sub="alice", scopes=["a", "b"], key=key, claims={"client_id": "app"})
    verified = verifier.verify(token, keys, time.time())
    assert verified.subject == "alice"
    assert verified.scopes == {"a", "b"}
    assert verified.client_id == "app"
    assert verified.issuer == ISS
    assert verified.header["alg"] == alg
    assert verified.has_scopes("a")
    assert not verified.has_scopes("a", "c")


def test_claims_are_read_only(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    verified = verifier.verify(issuer.mint(), keys, time.time())
    with pytest.raises(TypeError):
        verified.claims["sub"] = "mallory"  # type: ignore[index]


def test_tampered_payload_fails_the_signature(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    for key in issuer.keys:
        header, _, signature = issuer.mint(sub="alice", key=key).split(".")
        forged_payload = issuer.mint(sub="admin", key=key).split(".")[1]
        with pytest.raises(InvalidSignature):
            verifier.verify(f"{header}.{forged_payload}.{signature}", keys, time.time())


def test_truncated_signature_fails(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    for key in issuer.keys:
        head, _, signature = issuer.mint(key=key).rpartition(".")
        # Drop the signature's last 6 bytes and re-encode canonically (a cut in the middle
        # of a base64 group is refused earlier, as malformed base64url).
        cut = base64.urlsafe_b64decode(signature + "==")[:-6]
        truncated = base64.urlsafe_b64encode(cut).rstrip(b"=").decode()
        with pytest.raises(InvalidSignature):
            verifier.verify(f"{head}.{truncated}", keys, time.time())


def test_algorithm_outside_the_allowlist_is_refused_before_key_lookup(
    all_keys: list[DevKey],
) -> None:
    issuer = Issuer(ISS, audience="api", keys=all_keys)
    settings = Settings(issuer=ISS, audience="api", algorithms=["ES256"])
    verifier = TokenVerifier(settings)
    keys = KeySet.from_dict(issuer.jwks(), ["RS256", "ES256"])
    with pytest.raises(InvalidAlgorithm):
        verifier.verify(issuer.mint(key=all_keys[0]), keys, time.time())


def test_alg_must_fit_the_selected_key(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    rs = next(k for k in issuer.keys if k.alg == "RS256")
    # Signed with RS384 but naming the RS256-only key.
    token = issuer.mint(key=DevKey(kid=rs.kid, alg="RS384", private_key=rs.private_key))
    with pytest.raises(InvalidAlgorithm):
        verifier.verify(token, keys, time.time())


def test_unknown_kid(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    with pytest.raises(UnknownKey):
        verifier.verify(issuer.mint(headers={"kid": "nope"}), keys, time.time())


def test_claims_are_checked_after_the_signature(
    setup: tuple[Issuer, TokenVerifier, KeySet],
) -> None:
    issuer, verifier, keys = setup
    with pytest.raises(ExpiredToken):
        verifier.verify(issuer.mint(expires_in=-120), keys, time.time())
    with pytest.raises(InvalidAudience):
        verifier.verify(issuer.mint(audience="other"), keys, time.time())
    with pytest.raises(InvalidIssuer):
        verifier.verify(issuer.mint(claims={"iss": "https://evil.test"}), keys, time.time())


def test_clock_is_injected(setup: tuple[Issuer, TokenVerifier, KeySet]) -> None:
    issuer, verifier, keys = setup
    token = issuer.mint(expires_in=60, now=1_000_000)
    assert verifier.verify(token, keys, 1_000_030).subject == "dev-user"
    with pytest.raises(ExpiredToken):
        verifier.verify(token, keys, 1_000_200)


def test_strict_mode_checks_typ_whoever_parsed_the_token(rsa_key: DevKey) -> None:
    """The typ check lives in verify_with_key, so a caller that parsed by itself still gets it."""
    from jwtgate import InvalidTokenType, parse_token

    issuer = Issuer(ISS, audience="api", keys=[rsa_key])
    verifier = TokenVerifier(issuer.settings(strict_access_token=True))
    key = KeySet.from_dict(issuer.jwks(), ["RS256"]).find("rsa-1", "RS256")
    claims = {"client_id": "c"}
    good = parse_token(issuer.mint(claims=claims))
    assert verifier.verify_with_key(good, key, time.time()).client_id == "c"
    for typ in ("JWT", None):
        token = parse_token(issuer.mint(claims=claims, headers={"typ": typ}))
        with pytest.raises(InvalidTokenType):
            verifier.verify_with_key(token, key, time.time())
