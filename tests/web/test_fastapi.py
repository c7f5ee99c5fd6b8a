"""jwtgate.fastapi: the Security dependency, its OpenAPI schemes and its answers."""

from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Security

from jwtgate import Authenticator, InsufficientScope, JWTGateMiddleware, Settings, TokenUser
from jwtgate._web.rfc6750 import render_error
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer, app_client

from helpers import bearer, first_challenge


def build(auth: JWTGateAuth, *, middleware: Settings | None = None, **kwargs: Any) -> FastAPI:
    app = FastAPI()
    if middleware is not None:
        app.add_middleware(JWTGateMiddleware, settings=middleware, **kwargs)
    install(app)

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {}

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(auth)]) -> dict[str, Any]:
        return {"sub": user.subject, "scopes": sorted(user.scopes)}

    @app.get("/items")
    def items(user: Annotated[TokenUser, Security(auth, scopes=["items:read"])]) -> list[str]:
        return []

    @app.post("/items")
    async def create(
        user: Annotated[TokenUser, Security(auth, scopes=["items:write", "items:read"])],
    ) -> dict[str, bool]:
        return {"created": True}

    return app


@pytest.fixture(params=["middleware", "self-verifying"])
def client(request: pytest.FixtureRequest, issuer: Issuer) -> httpx.Client:
    """The same routes in both modes: the answers must not differ."""
    if request.param == "middleware":
        app = build(JWTGateAuth(), middleware=issuer.settings(), transport=issuer.transport())
    else:
        authenticator = Authenticator(issuer.settings(), transport=issuer.transport())
        app = build(JWTGateAuth(authenticator=authenticator))
    return app_client(app)


def test_valid_token_injects_the_user(client: httpx.Client, issuer: Issuer) -> None:
    response = client.get("/me", headers=bearer(issuer.mint(sub="alice", scopes=["b", "a"])))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "scopes": ["a", "b"]}


def test_no_token_is_401_without_error_code(client: httpx.Client) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'
    assert response.json()["error"] == "unauthorized"


def test_bad_token_is_401_invalid_token(client: httpx.Client, issuer: Issuer) -> None:
    response = client.get("/me", headers=bearer(issuer.mint(expires_in=-3600)))
    assert response.status_code == 401
    assert 'error="invalid_token"' in first_challenge(response)
    assert response.json()["error"] == "invalid_token"


def test_missing_scope_is_403_naming_every_needed_scope(
    client: httpx.Client, issuer: Issuer
) -> None:
    response = client.post("/items", headers=bearer(issuer.mint(scopes=["items:read"])))
    assert response.status_code == 403
    # The exact bytes the middleware renders for the same error.
    _, headers, body = render_error(InsufficientScope(("items:write", "items:read")), "api")
    assert response.content == body
    assert first_challenge(response) == dict(headers)[b"www-authenticate"].decode()
    ok = client.post("/items", headers=bearer(issuer.mint(scopes=["items:read", "items:write"])))
    assert ok.status_code == 200


def test_scopes_of_sync_routes_are_checked(client: httpx.Client, issuer: Issuer) -> None:
    assert client.get("/items", headers=bearer(issuer.mint())).status_code == 403
    assert client.get("/items", headers=bearer(issuer.mint(scopes=["items:read"]))).is_success


def test_malformed_header_is_400(client: httpx.Client) -> None:
    response = client.get("/me", headers={"Authorization": "Bearer a b"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_public_routes_need_nothing(client: httpx.Client) -> None:
    assert client.get("/public").status_code == 200


def test_auto_error_false_gives_none_to_anonymous_callers() -> None:
    app = FastAPI()

    @app.get("/maybe")
    async def maybe(
        user: Annotated[TokenUser | None, Security(JWTGateAuth(auto_error=False))],
    ) -> dict[str, Any]:
        return {"sub": user.subject if user else None}

    issuer = Issuer("https://issuer.test", audience="a")
    app.add_middleware(JWTGateMiddleware, settings=issuer.settings(), transport=issuer.transport())
    client = app_client(app)
    assert client.get("/maybe").json() == {"sub": None}
    assert client.get("/maybe", headers=bearer(issuer.mint(sub="x"))).json() == {"sub": "x"}


def test_keys_unavailable_is_503_with_retry_after(issuer: Issuer) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    auth = JWTGateAuth(
        authenticator=Authenticator(issuer.settings(), transport=httpx.MockTransport(down))
    )
    response = app_client(build(auth)).get("/me", headers=bearer(issuer.mint()))
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["error"] == "temporarily_unavailable"


def test_without_install_the_status_and_challenge_still_hold(issuer: Issuer) -> None:
    app = FastAPI()
    auth = JWTGateAuth(issuer.settings())

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(auth)]) -> str:
        return "x"

    response = app_client(app).get("/me")
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'


def test_middleware_mode_without_the_middleware_is_a_clear_error() -> None:
    app = FastAPI()

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(JWTGateAuth())]) -> str:
        return "x"

    with pytest.raises(RuntimeError, match="add JWTGateMiddleware"):
        app_client(app).get("/me")


def security_of(openapi: dict[str, Any], method: str, path: str) -> Any:
    return openapi["paths"][path][method].get("security")


@pytest.mark.parametrize(
    ("kwargs", "scheme"),
    [
        pytest.param({}, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}, id="bearer"),
        pytest.param(
            {"openid_connect": True},
            {
                "type": "openIdConnect",
                "openIdConnectUrl": "https://issuer.test/.well-known/openid-configuration",
            },
            id="oidc-from-discovery",
        ),
        pytest.param(
            {
                "authorization_url": "https://issuer.test/authorize",
                "token_url": "https://issuer.test/token",
                "scopes": {"items:read": "Read items", "items:write": "Write items"},
            },
            {
                "type": "oauth2",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "https://issuer.test/authorize",
                        "tokenUrl": "https://issuer.test/token",
                        "scopes": {"items:read": "Read items", "items:write": "Write items"},
                    }
                },
            },
            id="oauth2-authorization-code",
        ),
    ],
)
def test_openapi_publishes_the_scheme_and_per_route_scopes(
    issuer: Issuer, kwargs: dict[str, Any], scheme: dict[str, Any]
) -> None:
    app = build(JWTGateAuth(issuer.settings(), **kwargs))
    openapi = app_client(app).get("/openapi.json").json()
    assert openapi["components"]["securitySchemes"]["jwtgate"] == scheme
    assert security_of(openapi, "get", "/public") is None
    assert security_of(openapi, "get", "/me") == [{"jwtgate": []}]
    assert security_of(openapi, "get", "/items") == [{"jwtgate": ["items:read"]}]
    assert security_of(openapi, "post", "/items") == [{"jwtgate": ["items:write", "items:read"]}]


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"authorization_url": "https://i/authorize"}, id="flow-without-token-url"),
        pytest.param({"openid_connect": True}, id="oidc-without-settings"),
    ],
)
def test_incomplete_openapi_options_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        JWTGateAuth(**kwargs)


def test_invalid_scope_names_are_refused(issuer: Issuer) -> None:
    app = FastAPI()
    auth = JWTGateAuth(issuer.settings())

    @app.get("/x")
    async def x(user: Annotated[TokenUser, Security(auth, scopes=['bad"scope'])]) -> str:
        return "x"

    with pytest.raises(ValueError, match="scope token"):
        app_client(app).get("/x", headers=bearer(issuer.mint()))


def test_from_env_reads_jwtgate_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTGATE_ISSUER", "https://issuer.example")
    monkeypatch.setenv("JWTGATE_AUDIENCE", "api")
    auth = JWTGateAuth.from_env()
    assert auth.authenticator is not None
    assert auth.authenticator.settings.issuer == "https://issuer.example"
    assert "self-verifying" in repr(auth)


def test_importing_jwtgate_imports_no_web_framework_but_starlette() -> None:
    import subprocess
    import sys

    code = (
        "import sys, jwtgate, jwtgate.testing, jwtgate.flask, jwtgate.django; "
        "print(sorted(m for m in ('fastapi', 'flask', 'django') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
