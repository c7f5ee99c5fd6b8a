"""Logging: everything under the ``jwtgate`` logger, reason codes, never a token."""

import logging
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Security

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, TokenUser
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer, app_client

from helpers import protected_app

CASES = [
    pytest.param({"expires_in": -3600}, "expired", id="expired"),
    pytest.param({"audience": "someone-else"}, "audience", id="audience"),
    pytest.param({"claims": {"iss": "https://evil.example"}}, "issuer", id="issuer"),
    pytest.param({"kid": "unknown-kid"}, "unknown_key", id="unknown-kid"),
]


def fastapi_app(issuer: Issuer) -> FastAPI:
    app = FastAPI()
    install(app)
    auth = JWTGateAuth(issuer.settings())

    @app.get("/whoami")
    async def whoami(user: Annotated[TokenUser, Security(auth)]) -> str:
        return "x"

    return app


def wsgi_app(issuer: Issuer) -> JWTGateWSGIMiddleware:
    return JWTGateWSGIMiddleware(lambda e, s: [], issuer.settings())


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda i: JWTGateMiddleware(protected_app(), i.settings()), id="asgi"),
        pytest.param(wsgi_app, id="wsgi"),
        pytest.param(fastapi_app, id="fastapi"),
    ],
)
@pytest.mark.parametrize(("mint", "reason"), CASES)
def test_rejections_log_a_reason_code_and_no_token(
    caplog: pytest.LogCaptureFixture,
    jwtgate_issuer: Issuer,
    build: object,
    mint: dict[str, object],
    reason: str,
) -> None:
    client = app_client(build(jwtgate_issuer), jwtgate_issuer)  # type: ignore[operator]
    token = jwtgate_issuer.mint(**mint)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="jwtgate"):
        response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    records = [r for r in caplog.records if r.name.split(".")[0] == "jwtgate"]
    assert any(reason in r.getMessage() for r in records), [r.getMessage() for r in records]
    for record in caplog.records:
        text = record.getMessage()
        for part in token.split("."):
            assert part not in text


def asgi_app(issuer: Issuer) -> JWTGateMiddleware:
    return JWTGateMiddleware(protected_app(), issuer.settings())


@pytest.mark.parametrize(
    "build", [asgi_app, wsgi_app, fastapi_app], ids=["asgi", "wsgi", "fastapi"]
)
def test_rejection_records_carry_the_reason_as_an_attribute(
    caplog: pytest.LogCaptureFixture, jwtgate_issuer: Issuer, build: object
) -> None:
    client = app_client(build(jwtgate_issuer), jwtgate_issuer)  # type: ignore[operator]
    with caplog.at_level(logging.DEBUG, logger="jwtgate"):
        client.get("/whoami", headers=jwtgate_issuer.headers(expires_in=-3600))
    rejected = [r for r in caplog.records if r.getMessage().startswith("Rejected")]
    assert [getattr(r, "jwtgate_reason", None) for r in rejected] == ["expired"]


def test_a_fetch_failure_is_one_warning_naming_the_url_not_the_token(
    caplog: pytest.LogCaptureFixture, jwtgate_issuer: Issuer
) -> None:
    down = httpx.MockTransport(lambda request: httpx.Response(500))
    app = JWTGateWSGIMiddleware(lambda e, s: [], jwtgate_issuer.settings(), transport=down)
    client = httpx.Client(transport=httpx.WSGITransport(app), base_url="http://t")
    token = jwtgate_issuer.mint()
    with caplog.at_level(logging.DEBUG, logger="jwtgate"):
        for _ in range(3):
            assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 503
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # The cooldown keeps the other requests from refetching.
    assert warnings[0].name.startswith("jwtgate")
    assert "openid-configuration" in warnings[0].getMessage()
    assert all(token.split(".")[1] not in r.getMessage() for r in caplog.records)
