"""jwtgate.testing and the pytest plugin: what users write their own tests with."""

from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import FastAPI, Security
from starlette.applications import Starlette
from starlette.middleware import Middleware

from jwtgate import JWTGateMiddleware, Settings, TokenUser, parse_token
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer, app_client, override, serve

from helpers import first_challenge, protected_app

OTHER = Issuer("https://production.example", audience="prod-api")


def test_three_line_recipe(jwtgate_issuer: Issuer) -> None:
    app = Starlette(
        routes=protected_app().routes,
        middleware=[Middleware(JWTGateMiddleware, settings=OTHER.settings(scope_claims=["perms"]))],
    )
    # The recipe the README shows:
    client = app_client(app, jwtgate_issuer)
    assert client.get("/items", headers=jwtgate_issuer.headers()).status_code == 403
    ok = client.get("/items", headers=jwtgate_issuer.headers(claims={"perms": ["items:read"]}))
    assert ok.status_code == 200
    # Everything but issuer, audience and JWKS URL is kept: "scope" is not read.
    assert (
        client.get("/items", headers=jwtgate_issuer.headers(scopes=["items:read"])).status_code
        == 403
    )
    # The real issuer's tokens no longer verify.
    assert client.get("/items", headers=OTHER.headers(scopes=["items:read"])).status_code == 401


def test_override_of_a_fastapi_app_with_the_dependency(jwtgate_issuer: Issuer) -> None:
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=OTHER.settings())
    install(app)

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(JWTGateAuth(), scopes=["me"])]) -> Any:
        return {"sub": user.subject}

    client = app_client(app, jwtgate_issuer)
    assert client.get("/me", headers=jwtgate_issuer.headers(sub="a", scopes=["me"])).json() == {
        "sub": "a"
    }
    assert client.get("/me", headers=jwtgate_issuer.headers()).status_code == 403


def test_override_of_a_wrapping_middleware_instance(jwtgate_issuer: Issuer) -> None:
    app = JWTGateMiddleware(protected_app(), OTHER.settings(), transport=OTHER.transport())
    client = app_client(app, jwtgate_issuer)
    response = client.get("/whoami", headers=jwtgate_issuer.headers(sub="w"))
    assert response.json()["sub"] == "w"


def test_override_keeps_audience_checking_off_when_it_was_off(jwtgate_issuer: Issuer) -> None:
    settings = Settings(issuer=OTHER.issuer, verify_audience=False)
    app = JWTGateMiddleware(protected_app(), settings)
    client = app_client(app, jwtgate_issuer)
    assert client.get("/whoami", headers=jwtgate_issuer.headers(audience="any")).status_code == 200


def test_override_without_jwtgate_middleware_is_an_error(jwtgate_issuer: Issuer) -> None:
    with pytest.raises(LookupError, match="no jwtgate middleware"):
        override(protected_app(), jwtgate_issuer)


@pytest.mark.parametrize("algorithm", ["RS256", "PS384", "ES256", "ES512", "EdDSA"])
def test_mint_with_a_chosen_algorithm_publishes_a_key(
    jwtgate_issuer: Issuer, algorithm: str
) -> None:
    client = app_client(JWTGateMiddleware(protected_app(), OTHER.settings()), jwtgate_issuer)
    token = jwtgate_issuer.mint(algorithm=algorithm, sub="alg")
    assert parse_token(token).alg == algorithm
    assert (
        client.get("/whoami", headers={"Authorization": f"Bearer {token}"}).json()["sub"] == "alg"
    )


def test_mint_with_chosen_kid_expiry_and_claims(jwtgate_issuer: Issuer) -> None:
    token = jwtgate_issuer.mint(kid="nope", expires_in=60, now=1000, claims={"roles": ["r"]})
    header, claims = (
        jwt.get_unverified_header(token),
        jwt.decode(token, options={"verify_signature": False}),
    )
    assert header["kid"] == "nope"
    assert claims["exp"] == 1060
    assert claims["iat"] == 1000
    assert claims["roles"] == ["r"]
    client = app_client(JWTGateMiddleware(protected_app(), OTHER.settings()), jwtgate_issuer)
    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401  # Unknown kid (and long expired).


def test_live_issuer_serves_discovery_and_jwks_on_loopback(jwtgate_live_issuer: Issuer) -> None:
    assert jwtgate_live_issuer.issuer.startswith("http://127.0.0.1:")
    discovery = httpx.get(jwtgate_live_issuer.issuer + "/.well-known/openid-configuration")
    assert discovery.json()["issuer"] == jwtgate_live_issuer.issuer
    jwks = httpx.get(discovery.json()["jwks_uri"])
    assert jwks.headers["cache-control"] == "max-age=300"
    assert [k["kid"] for k in jwks.json()["keys"]] == ["jwtgate-test-key"]
    assert httpx.get(jwtgate_live_issuer.issuer + "/nope").status_code == 404
    assert jwtgate_live_issuer.requests[-1] == "/nope"


def test_jwtgate_env_points_an_env_configured_app_at_the_live_issuer(
    jwtgate_env: Issuer,
) -> None:
    app = Starlette(routes=protected_app().routes, middleware=[Middleware(JWTGateMiddleware)])
    client = app_client(app)
    response = client.get("/items", headers=jwtgate_env.headers(scopes=["items:read"]))
    assert response.status_code == 200
    assert jwtgate_env.requests == ["/.well-known/jwks.json"]


def test_serve_rotates_keys_live() -> None:
    with serve(audience="x") as issuer:
        new = issuer.rotate("ES256")
        kids = [k["kid"] for k in httpx.get(issuer.jwks_url).json()["keys"]]
        assert kids[0] == new.kid
        assert len(kids) == 2


def test_the_projects_own_issuer_fixture_still_works(
    issuer: Issuer, jwtgate_issuer: Issuer
) -> None:
    assert issuer.issuer == "https://issuer.test"
    assert jwtgate_issuer.issuer == "https://issuer.jwtgate.test"


def test_override_of_a_self_verifying_fastapi_dependency(jwtgate_issuer: Issuer) -> None:
    app = FastAPI()
    install(app)
    auth = JWTGateAuth(OTHER.settings(realm="mine"))

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(auth, scopes=["me"])]) -> Any:
        return {"sub": user.subject}

    client = app_client(app, jwtgate_issuer)
    assert client.get("/me", headers=jwtgate_issuer.headers(sub="s", scopes=["me"])).json() == {
        "sub": "s"
    }
    denied = client.get("/me", headers=jwtgate_issuer.headers())
    assert denied.status_code == 403
    assert 'realm="mine"' in first_challenge(denied)  # Other settings kept.


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "other_iss", "path"),
    [
        pytest.param(
            "https://tenant.auth0.com/", "https://tenant.auth0.com", "", id="auth0-trailing-slash"
        ),
        pytest.param(
            "https://sts.windows.net/tenant-id/",
            "https://sts.windows.net/tenant-id",
            "/tenant-id",
            id="path-trailing-slash",
        ),
        pytest.param(
            "https://okta.test/oauth2/default",
            "https://okta.test/oauth2/default/",
            "/oauth2/default",
            id="path-no-slash",
        ),
    ],
)
async def test_issuer_url_is_the_exact_iss_and_discovery_works_below_it(
    url: str, other_iss: str, path: str
) -> None:
    issuer = Issuer(url, audience="api")
    assert issuer.issuer == issuer.settings().issuer == issuer.discovery()["issuer"] == url
    assert parse_token(issuer.mint()).claims["iss"] == url
    app = JWTGateMiddleware(protected_app(), issuer.settings(), transport=issuer.transport())
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ok = await client.get("/items", headers=issuer.headers(scopes=["items:read"]))
        assert ok.status_code == 200, ok.text
        # Found by discovery, below the issuer without its trailing "/" (OIDC Discovery §4).
        assert issuer.requests == [
            f"{path}/.well-known/openid-configuration",
            f"{path}/.well-known/jwks.json",
        ]
        wrong = await client.get(
            "/items", headers=issuer.headers(scopes=["items:read"], claims={"iss": other_iss})
        )
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in first_challenge(wrong)
