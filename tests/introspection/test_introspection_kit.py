"""The test kit's opaque tokens: in-process transport, ASGI app, discovery, revocation."""

from __future__ import annotations

import httpx
import pytest

from jwtgate import Authenticator, InvalidToken
from jwtgate.testing import Issuer

pytestmark = pytest.mark.anyio


async def test_the_in_process_transport_introspects_on_both_faces() -> None:
    issuer = Issuer("https://as.test", audience="api")
    authenticator = Authenticator(
        issuer.settings(introspection=True),
        transport=issuer.transport(),
        sync_transport=issuer.transport(),
    )
    token = issuer.mint_opaque(sub="kit", scopes=["x"], client_id="app")
    verified = await authenticator.authenticate(token)
    assert (verified.subject, verified.client_id, verified.scopes) == ("kit", "app", {"x"})
    other = issuer.mint_opaque()
    issuer.revoke(other)
    with pytest.raises(InvalidToken, match="not active"):
        authenticator.authenticate_sync(other)
    assert issuer.opaque.calls == 2
    await authenticator.aclose()
    authenticator.close()


async def test_the_asgi_app_serves_the_endpoint_and_discovery() -> None:
    issuer = Issuer("http://127.0.0.1:9", audience="api")
    token = issuer.mint_opaque(sub="asgi")
    transport = httpx.ASGITransport(issuer.asgi_app())
    async with httpx.AsyncClient(transport=transport, base_url=issuer.url) as client:
        metadata = (await client.get("/.well-known/openid-configuration")).json()
        assert metadata["introspection_endpoint"] == issuer.introspection_url
        auth = (issuer.opaque.client_id, issuer.opaque.client_secret)
        answer = await client.post("/oauth/introspect", data={"token": token}, auth=auth)
        assert answer.json()["sub"] == "asgi"
        wrong = await client.post("/oauth/introspect", data={"token": token}, auth=("x", "y"))
        assert wrong.status_code == 401
        elsewhere = await client.post("/oauth/other", data={"token": token}, auth=auth)
        assert elsewhere.status_code == 404


def test_expired_and_unknown_tokens_are_inactive() -> None:
    opaque = Issuer("https://as.test", audience="api").opaque
    assert opaque.answer_for(opaque.mint(expires_in=-1)) == {"active": False}
    assert opaque.answer_for("unknown") == {"active": False}
    answer = opaque.answer_for(opaque.mint(sub=None, claims={"acr": "mfa"}))
    assert "sub" not in answer
    assert answer["acr"] == "mfa"
