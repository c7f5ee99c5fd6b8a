"""Multi-tenant issuers: a ``{tenantid}`` template matched with ``tid``, one shared JWKS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jwtgate import Authenticator, ConfigurationError, InvalidToken, JWTGateMiddleware, Settings
from jwtgate.testing import DevKey, Issuer, app_client

from helpers import bearer, protected_app

TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"
T1 = "72f988bf-86f1-41af-91ab-2d7cd011db47"
T2 = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
T3 = "0b1c2d3e-0000-4000-8000-000000000003"


@pytest.fixture
def common(rsa_key: DevKey) -> Issuer:
    """Entra's keys, shared by every tenant (``/common/discovery/v2.0/keys`` in real life)."""
    return Issuer("https://login.microsoftonline.com/common", audience="api://app", keys=[rsa_key])


def _iss(tid: str) -> str:
    return TEMPLATE.replace("{tenantid}", tid)


def _client(common: Issuer, **extra: Any) -> httpx.Client:
    env = {
        "JWTGATE_ISSUER": TEMPLATE,
        "JWTGATE_AUDIENCE": "api://app",
        "JWTGATE_JWKS_URL": common.jwks_url,
        "JWTGATE_CLAIM_RULES": f'{{"tid": ["{T1}", "{T2}"]}}',
        **extra,
    }
    settings = Settings.from_env(env)
    app = JWTGateMiddleware(protected_app(), settings, transport=common.transport())
    return app_client(app)


CASES = [
    pytest.param({"iss": _iss(T1), "tid": T1}, 200, id="tenant-1"),
    pytest.param({"iss": _iss(T2), "tid": T2}, 200, id="tenant-2"),
    pytest.param({"iss": _iss(T3), "tid": T3}, 401, id="tenant-not-allowed"),
    pytest.param({"iss": _iss(T1), "tid": T2}, 401, id="iss-of-another-tenant"),
    pytest.param({"iss": _iss(T1)}, 401, id="no-tid"),
    pytest.param({"iss": _iss(T1), "tid": [T1]}, 401, id="tid-list"),
    pytest.param({"iss": TEMPLATE, "tid": T1}, 401, id="literal-template"),
    pytest.param({"iss": _iss("x/../" + T1), "tid": "x/../" + T1}, 401, id="tid-with-slashes"),
    pytest.param({"iss": "https://sts.windows.net/" + T1 + "/", "tid": T1}, 401, id="v1-issuer"),
]


@pytest.mark.parametrize(("claims", "status"), CASES)
def test_template_issuer(common: Issuer, claims: dict[str, Any], status: int) -> None:
    client = _client(common)
    response = client.get("/whoami", headers=bearer(common.mint(claims=claims)))
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"] == "invalid_token"


def test_all_tenants_share_one_key_fetch(common: Issuer) -> None:
    client = _client(common)
    for tid in (T1, T2, T1):
        token = common.mint(claims={"iss": _iss(tid), "tid": tid})
        assert client.get("/whoami", headers=bearer(token)).status_code == 200
    assert common.requests == ["/common/.well-known/jwks.json"]


def test_template_in_an_issuers_entry(common: Issuer, issuer: Issuer) -> None:
    env = {
        "JWTGATE_ISSUERS": (
            f'[{{"issuer": "{TEMPLATE}", "audience": "api://app", "jwks_url": "{common.jwks_url}",'
            f' "claim_rules": {{"tid": ["{T1}"]}}}},'
            f' {{"issuer": "{issuer.issuer}", "audience": "{issuer.audience}"}}]'
        )
    }

    def transport(request: httpx.Request) -> httpx.Response:
        source = common if request.url.host == "login.microsoftonline.com" else issuer
        return source.transport().handle_request(request)

    authenticator = Authenticator(
        Settings.from_env(env), sync_transport=httpx.MockTransport(transport)
    )
    good = common.mint(claims={"iss": _iss(T1), "tid": T1})
    assert authenticator.authenticate_sync(good).claims["tid"] == T1
    assert authenticator.authenticate_sync(issuer.mint(sub="plain")).subject == "plain"
    for claims in ({"iss": _iss(T2), "tid": T2}, {"iss": _iss(T2), "tid": T1}):
        with pytest.raises(InvalidToken):
            authenticator.authenticate_sync(common.mint(claims=claims))


@pytest.mark.parametrize(
    ("env", "setting", "fragment"),
    [
        pytest.param(
            {"JWTGATE_ISSUER": TEMPLATE, "JWTGATE_AUDIENCE": "a"},
            "JWTGATE_JWKS_URL",
            "common/discovery/v2.0/keys",
            id="template-needs-jwks-url",
        ),
        pytest.param(
            {
                "JWTGATE_ISSUER": "https://x.test/{tenantid}/{tenantid}",
                "JWTGATE_AUDIENCE": "a",
                "JWTGATE_JWKS_URL": "https://x.test/keys",
            },
            "JWTGATE_ISSUER",
            "one placeholder",
            id="two-placeholders",
        ),
        pytest.param(
            {
                "JWTGATE_ISSUER": "https://x.test/{tenant}/{tenantid}",
                "JWTGATE_AUDIENCE": "a",
                "JWTGATE_JWKS_URL": "https://x.test/keys",
            },
            "JWTGATE_ISSUER",
            "one placeholder",
            id="unknown-placeholder",
        ),
    ],
)
def test_template_misconfiguration(env: dict[str, str], setting: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert caught.value.setting == setting
    assert fragment in caught.value.problem
