"""``cnf`` is never ignored on the faces that verify without the middleware (FastAPI)."""

from typing import Annotated

import pytest
from fastapi import FastAPI, Security

from jwtgate import Authenticator, TokenUser
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import DevKey, Issuer, app_client


@pytest.mark.parametrize("mode", ["allowed", "required", "disabled"])
def test_self_verifying_fastapi_dependency_refuses_bound_bearer_tokens(
    issuer: Issuer, client_key: DevKey, mode: str
) -> None:
    settings = issuer.settings(dpop=mode)
    auth = JWTGateAuth(authenticator=Authenticator(settings, transport=issuer.transport()))
    app = FastAPI()
    install(app)

    @app.get("/me")
    async def me(user: Annotated[TokenUser, Security(auth)]) -> str | None:
        return user.subject

    client = app_client(app)
    bound = issuer.mint(dpop_key=client_key)
    refused = client.get("/me", headers={"Authorization": f"Bearer {bound}"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    plain = client.get("/me", headers={"Authorization": f"Bearer {issuer.mint()}"})
    assert plain.status_code == (401 if mode == "required" else 200)
