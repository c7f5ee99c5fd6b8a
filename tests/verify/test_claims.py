from typing import Any

import pytest

from jwtgate import (
    ExpiredToken,
    ImmatureToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    TokenTooOld,
    extract_scopes,
)
from jwtgate._verify.claims import validate_access_token, validate_claims, validate_lifetime

NOW = 1_700_000_000
ISS = "https://issuer.test"
GOOD = {"iss": ISS, "aud": "api", "exp": NOW + 60, "nbf": NOW - 60, "iat": NOW - 60}


def check(claims: dict[str, Any], **kwargs: Any) -> None:
    options: dict[str, Any] = {
        "now": NOW,
        "leeway": 30,
        "issuer": ISS,
        "audiences": frozenset({"api"}),
    }
    options.update(kwargs)
    validate_claims(claims, **options)


def test_good_claims_pass() -> None:
    check(GOOD)
    check({**GOOD, "aud": ["other", "api"]})
    check({**GOOD, "exp": NOW - 29})  # Within leeway.
    check({**GOOD, "iat": NOW + 29, "nbf": NOW + 29})
    check({k: v for k, v in GOOD.items() if k != "aud"}, audiences=None)


@pytest.mark.parametrize(
    ("claims", "error", "claim"),
    [
        pytest.param({**GOOD, "exp": NOW - 30}, ExpiredToken, "exp", id="expired-at-leeway"),
        pytest.param({**GOOD, "exp": NOW - 3600}, ExpiredToken, "exp", id="expired"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "exp"}, InvalidClaim, "exp", id="exp-missing"
        ),
        pytest.param({**GOOD, "exp": None}, InvalidClaim, "exp", id="exp-null"),
        pytest.param({**GOOD, "exp": "9999999999"}, InvalidClaim, "exp", id="exp-string"),
        pytest.param({**GOOD, "exp": True}, InvalidClaim, "exp", id="exp-bool"),
        pytest.param({**GOOD, "nbf": NOW + 31}, ImmatureToken, "nbf", id="nbf-future"),
        pytest.param({**GOOD, "nbf": "0"}, InvalidClaim, "nbf", id="nbf-string"),
        pytest.param({**GOOD, "iat": NOW + 31}, ImmatureToken, "iat", id="iat-future"),
        pytest.param({**GOOD, "iat": [1]}, InvalidClaim, "iat", id="iat-list"),
        pytest.param({**GOOD, "iss": ISS + "/"}, InvalidIssuer, "iss", id="iss-trailing-slash"),
        pytest.param({**GOOD, "iss": ISS.upper()}, InvalidIssuer, "iss", id="iss-case"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "iss"}, InvalidIssuer, "iss", id="iss-missing"
        ),
        pytest.param({**GOOD, "iss": [ISS]}, InvalidIssuer, "iss", id="iss-list"),
        pytest.param({**GOOD, "aud": "other"}, InvalidAudience, "aud", id="aud-other"),
        pytest.param({**GOOD, "aud": ["other"]}, InvalidAudience, "aud", id="aud-list-other"),
        pytest.param({**GOOD, "aud": []}, InvalidAudience, "aud", id="aud-empty-list"),
        pytest.param({**GOOD, "aud": ["api", 1]}, InvalidAudience, "aud", id="aud-list-non-string"),
        pytest.param({**GOOD, "aud": {"api": 1}}, InvalidAudience, "aud", id="aud-object"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "aud"}, InvalidAudience, "aud", id="aud-missing"
        ),
    ],
)
def test_bad_claims_are_rejected(
    claims: dict[str, Any], error: type[InvalidClaim], claim: str
) -> None:
    with pytest.raises(error) as info:
        check(claims)
    assert type(info.value) is error
    assert info.value.claim == claim
    assert info.value.status_code == 401


def test_required_claims() -> None:
    check({**GOOD, "sub": "a"}, required=("sub",))
    with pytest.raises(InvalidClaim) as info:
        check(GOOD, required=("sub",))
    assert info.value.claim == "sub"
    assert info.value.reason == "missing_claim"


@pytest.mark.parametrize(
    ("claims", "names", "expected"),
    [
        pytest.param({"scope": "a b  c"}, ("scope", "scp"), {"a", "b", "c"}, id="space-delimited"),
        pytest.param({"scp": ["a", "b"]}, ("scope", "scp"), {"a", "b"}, id="scp-list"),
        pytest.param({"scp": "a b"}, ("scope", "scp"), {"a", "b"}, id="scp-string"),
        pytest.param(
            {"scope": "a b", "scp": ["b", "c"]}, ("scope", "scp"), {"a", "b", "c"}, id="union"
        ),
        pytest.param({"scope": "", "scp": []}, ("scope", "scp"), set(), id="empty"),
        pytest.param(
            {"scope": 5, "scp": [1, None, "ok"]}, ("scope", "scp"), {"ok"}, id="non-strings-ignored"
        ),
        pytest.param({"permissions": ["read:x"]}, ("permissions",), {"read:x"}, id="custom-claim"),
        pytest.param({"permissions": ["read:x"]}, ("scope",), set(), id="unlisted-claim"),
    ],
)
def test_extract_scopes(claims: dict[str, Any], names: tuple[str, ...], expected: set[str]) -> None:
    assert extract_scopes(claims, names) == expected


ACCESS = {**GOOD, "sub": "alice", "client_id": "client-1", "jti": "j-1"}


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in ACCESS.items() if k != name}


def test_access_token_claims_pass() -> None:
    validate_access_token(ACCESS)


@pytest.mark.parametrize(
    ("claims", "claim", "reason"),
    [
        pytest.param({**ACCESS, "sub": None}, "sub", "missing_claim", id="sub-null"),
        pytest.param(without("client_id"), "client_id", "missing_claim", id="client-id-missing"),
        pytest.param(without("jti"), "jti", "missing_claim", id="jti-missing"),
        pytest.param(without("iat"), "iat", "missing_claim", id="iat-missing"),
        pytest.param({**ACCESS, "sub": 1}, "sub", "claim", id="sub-number"),
        pytest.param({**ACCESS, "jti": ""}, "jti", "claim", id="jti-empty"),
        pytest.param({**ACCESS, "iat": "1"}, "iat", "claim", id="iat-string"),
    ],
)
def test_access_token_claims_are_required(claims: dict[str, Any], claim: str, reason: str) -> None:
    with pytest.raises(InvalidClaim) as info:
        validate_access_token(claims)
    assert info.value.claim == claim
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("claims", "limits", "claim"),
    [
        pytest.param({"iat": NOW, "exp": NOW + 601}, (600, None), "exp", id="lifetime"),
        pytest.param({"iat": NOW - 331, "exp": NOW + 60}, (None, 300), "iat", id="age"),
        pytest.param({"iat": NOW - 331, "exp": NOW + 60}, (10**6, 300), "iat", id="age-both"),
    ],
)
def test_lifetime_limits(claims: dict[str, Any], limits: tuple[Any, Any], claim: str) -> None:
    with pytest.raises(TokenTooOld) as info:
        validate_lifetime(claims, NOW, 30, *limits)
    assert info.value.claim == claim
    validate_lifetime({"iat": NOW - 330, "exp": NOW + 270}, NOW, 30, 600, 300)  # At the limits.


def test_lifetime_limits_need_iat() -> None:
    with pytest.raises(InvalidClaim, match="'iat'"):
        validate_lifetime({"exp": NOW + 60}, NOW, 30, 600, None)


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**63 + 1])
def test_numbers_beyond_float_range_are_invalid_not_a_crash(value: int) -> None:
    for name in ("exp", "nbf", "iat"):
        with pytest.raises(InvalidClaim, match="out of range"):
            check({**GOOD, name: value})
