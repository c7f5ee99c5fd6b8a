"""FastAPI: requirements in OpenAPI, and the anonymous caller answered 401 before any 422."""

import time
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Security
from pydantic import BaseModel
from starlette.requests import Request

from jwtgate import Authenticator, JWTGateMiddleware, TokenUser, requires, requires_role
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer, app_client

from helpers import bearer


class Transfer(BaseModel):
    amount: int


def build(issuer: Issuer, auth: JWTGateAuth | None = None, middleware: bool = True) -> FastAPI:
    app = FastAPI()
    if middleware:
        app.add_middleware(
            JWTGateMiddleware, settings=issuer.settings(), transport=issuer.transport()
        )
    install(app)
    auth = auth or JWTGateAuth()

    @app.get("/reports", description="Quarterly reports.")
    async def reports(
        user: Annotated[
            TokenUser, Security(auth.requires(any_scopes=["reports:read", "admin:all"]))
        ],
    ) -> dict[str, Any]:
        return {}

    @app.get("/mixed")
    async def mixed(
        user: Annotated[
            TokenUser,
            Security(auth.requires(any_scopes=["a", "b"], roles=["admin"]), scopes=["base"]),
        ],
    ) -> dict[str, Any]:
        return {}

    @app.post("/transfers")
    async def transfer(
        body: Transfer,
        user: Annotated[TokenUser, Security(auth.requires(acr_values="mfa", max_age=300))],
    ) -> dict[str, Any]:
        return {"amount": body.amount}

    @app.post("/items")
    async def create(
        body: Transfer, user: Annotated[TokenUser, Security(auth, scopes=["items:write"])]
    ) -> dict[str, Any]:
        return {}

    @app.post("/decorated")
    @requires(scopes=["items:write"])
    @requires_role("admin")
    async def decorated(request: Request, body: Transfer) -> dict[str, Any]:
        return {"amount": body.amount}

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(auth)]) -> dict[str, Any]:
        return {}

    return app


def test_openapi_documents_requirements(issuer: Issuer) -> None:
    paths = app_client(build(issuer)).get("/openapi.json").json()["paths"]
    reports = paths["/reports"]["get"]
    assert reports["security"] == [{"jwtgate": ["reports:read"]}, {"jwtgate": ["admin:all"]}]
    assert reports["description"] == "Quarterly reports."
    assert {"401", "403"} <= set(reports["responses"])
    mixed = paths["/mixed"]["get"]
    assert mixed["security"] == [{"jwtgate": ["base", "a"]}, {"jwtgate": ["base", "b"]}]
    assert "every role of `admin`" in mixed["description"]
    transfer = paths["/transfers"]["post"]
    assert transfer["security"] == [{"jwtgate": []}]
    assert "`acr` one of `mfa`" in transfer["description"]
    assert "at most 300 s ago" in transfer["description"]
    assert "step-up" in transfer["responses"]["401"]["description"]
    assert "403" not in transfer["responses"]
    decorated = paths["/decorated"]["post"]
    assert "every role of `admin`" in decorated["description"]
    assert {"401", "403"} <= set(decorated["responses"])
    assert paths["/me"]["get"]["security"] == [{"jwtgate": []}]
    assert "403" not in paths["/me"]["get"]["responses"]
    assert "422" in paths["/items"]["post"]["responses"]


@pytest.fixture(params=["middleware", "self-verifying"])
def client(request: pytest.FixtureRequest, issuer: Issuer) -> httpx.Client:
    if request.param == "middleware":
        return app_client(build(issuer))
    auth = JWTGateAuth(authenticator=Authenticator(issuer.settings(), transport=issuer.transport()))
    return app_client(build(issuer, auth, middleware=False))


@pytest.mark.parametrize("path", ["/transfers", "/items"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed-json"),
        pytest.param(b'{"amount": "lots"}', id="invalid-field"),
        pytest.param(b"", id="missing-body"),
    ],
)
def test_anonymous_gets_401_before_422(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")


def test_decorated_path_operation_answers_auth_before_422(issuer: Issuer) -> None:
    client = app_client(build(issuer))
    bad = {"content-type": "application/json"}
    assert client.post("/decorated", content=b"{", headers=bad).status_code == 401
    token = issuer.mint(scopes=["items:write"])
    denied = client.post("/decorated", content=b"{", headers={**bad, **bearer(token)})
    assert denied.status_code == 403
    assert "scope=" not in denied.headers["www-authenticate"]
    ok = issuer.mint(scopes=["items:write"], claims={"roles": ["admin"]})
    assert client.post("/decorated", content=b"{", headers={**bad, **bearer(ok)}).status_code == 422
    assert client.post("/decorated", json={"amount": 3}, headers=bearer(ok)).json() == {"amount": 3}


def test_step_up_on_fastapi(client: httpx.Client, issuer: Issuer) -> None:
    weak = issuer.mint(claims={"acr": "pwd", "auth_time": time.time()})
    response = client.post("/transfers", json={"amount": 1}, headers=bearer(weak))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'acr_values="mfa"' in challenge
    assert 'max_age="300"' in challenge
    assert response.json()["acr_values"] == "mfa"
    # Authorized but with an invalid body: now FastAPI's 422.
    strong = issuer.mint(claims={"acr": "mfa", "auth_time": time.time()})
    assert client.post("/transfers", content=b"{", headers=bearer(strong)).status_code == 422
    assert client.post("/transfers", json={"amount": 1}, headers=bearer(strong)).status_code == 200
