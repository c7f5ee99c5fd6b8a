"""`with_bearer(auth)`: OpenAPI offers Swagger UI's login and a pasted token, one check behind."""


from typing import Annotated

import pytest
from fastapi import FastAPI, Security

from jwtgate import JWTGateMiddleware, Settings, TokenUser
from jwtgate.fastapi import JWTGateAuth, install, with_bearer
from jwtgate.testing import Issuer, app_client


def make_app() -> FastAPI:
    settings = Settings(issuer="https://tenant.example/", audience=["api"])
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=settings)
    install(app)
    auth = with_bearer(JWTGateAuth(openid_connect_url=settings.discovery_urls[0]))

    @app.get("/items")
    async def items(
        user: Annotated[TokenUser, Security(auth, scopes=["items:read"])],
    ) -> dict[str, str | None]:
        return {"owner": user.subject}

    return app


def test_openapi_lists_both_schemes_as_alternatives() -> None:
    schema = make_app().openapi()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
    }  # fmt: skip
    assert schema["components"]["securitySchemes"]["jwtgate"]["type"] == "openIdConnect"
    assert schema["paths"]["/items"]["get"]["security"] == [
        {"jwtgate": ["items:read"]}, {"bearer": ["items:read"]},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        pytest.param(None, 401, id="no-token"),
        pytest.param([], 403, id="no-scope"),
        pytest.param(["items:read"], 200, id="scope"),
    ],
)
def test_a_pasted_token_is_verified_as_any_other(
    jwtgate_issuer: Issuer, scopes: list[str] | None, status: int
) -> None:
    with app_client(make_app(), jwtgate_issuer) as client:
        headers = {} if scopes is None else jwtgate_issuer.headers(sub="paste", scopes=scopes)
        answer = client.get("/items", headers=headers)
    assert answer.status_code == status
    if status == 200:
        assert answer.json() == {"owner": "paste"}
