from typing import Any

import pytest

from jwtgate import (
    ExpiredToken,
    ImmatureToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    extract_scopes,
)
from jwtgate._claims import validate_claims

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
