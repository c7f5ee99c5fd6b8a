"""Claim rules through the real middleware on ASGI, WSGI and FastAPI; hostile values.

A broken rule is 401 invalid_token naming the claim, never its value; no value,
however large, deep or strange, makes a 500 or reaches the answer.
"""

import base64
import json
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Security

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, Settings, TokenUser
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer, app_client

from helpers import bearer, protected_app

MARK = "LEAKED-VALUE"
RULES = {
    "token_use": "access",
    "tid": ["tenant-a", "tenant-b"],
    "/ext/level": [2, 3],
    "email_verified": True,
}
GOOD = {"token_use": "access", "tid": "tenant-a", "ext": {"level": 2}, "email_verified": True}


def whoami_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("content-type", "application/json")])
    return [b'{"ok": true}']


def fastapi_app(settings: Settings, issuer: Issuer) -> FastAPI:
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=settings, transport=issuer.transport())
    install(app)
    auth = JWTGateAuth()

    @app.get("/whoami")
    async def whoami(user: Annotated[TokenUser, Security(auth)]) -> dict[str, Any]:
        return {"ok": True}

    return app


def _client(face: str, issuer: Issuer, **overrides: Any) -> httpx.Client:
    # Large tokens allowed: hostile values must reach the rules, not the size limit.
    settings = issuer.settings(claim_rules=RULES, max_token_bytes=1 << 20, **overrides)
    if face == "asgi":
        app: Any = JWTGateMiddleware(protected_app(), settings, transport=issuer.transport())
    elif face == "wsgi":
        app = JWTGateWSGIMiddleware(whoami_wsgi, settings, transport=issuer.transport())
    else:
        app = fastapi_app(settings, issuer)
    return app_client(app)


FACES = ["asgi", "wsgi", "fastapi"]
DEEP: Any = MARK
for _ in range(200):
    DEEP = {"level": DEEP}

BROKEN = [
    pytest.param({"token_use": "id"}, "token_use", id="wrong-string"),
    pytest.param({"token_use": None}, "token_use", id="removed"),
    pytest.param({"token_use": [MARK] * 2000}, "token_use", id="huge-list"),
    pytest.param({"token_use": [None, 1, {"a": MARK}, [MARK]]}, "token_use", id="non-strings"),
    # The JWS parser refuses lone surrogates before any rule runs (claim None).
    pytest.param({"token_use": "\ud800" + MARK}, None, id="lone-surrogate"),
    pytest.param({"token_use": MARK + '"\\\r\n'}, "token_use", id="header-breakers"),
    pytest.param({"tid": "tenant-c"}, "tid", id="tenant-not-listed"),
    pytest.param({"tid": ["tenant-c", MARK]}, "tid", id="tenant-list-without"),
    pytest.param({"ext": {"level": 1}}, "/ext/level", id="pointer-wrong"),
    pytest.param({"ext": {"level": True}}, "/ext/level", id="pointer-bool-for-number"),
    pytest.param({"ext": {"level": 1e308}}, "/ext/level", id="pointer-huge-float"),
    pytest.param({"ext": {"level": 10**40}}, "/ext/level", id="pointer-huge-int"),
    pytest.param({"ext": DEEP}, "/ext/level", id="pointer-deep-object"),
    pytest.param({"ext": [2]}, "/ext/level", id="pointer-into-list"),
    pytest.param({"ext": MARK}, "/ext/level", id="pointer-into-string"),
    pytest.param({"email_verified": "true"}, "email_verified", id="string-for-bool"),
    pytest.param({"email_verified": 1}, "email_verified", id="one-for-true"),
]


@pytest.mark.parametrize("face", FACES)
def test_a_token_keeping_every_rule_passes(face: str, issuer: Issuer) -> None:
    client = _client(face, issuer)
    response = client.get("/whoami", headers=bearer(issuer.mint(claims=GOOD)))
    assert response.status_code == 200
    assert (
        client.get(
            "/whoami", headers=bearer(issuer.mint(claims={**GOOD, "tid": ["x", "tenant-b"]}))
        ).status_code
        == 200
    )


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(("claims", "claim"), BROKEN)
def test_a_broken_rule_is_401_naming_the_claim_never_the_value(
    face: str, issuer: Issuer, claims: dict[str, Any], claim: str | None
) -> None:
    client = _client(face, issuer)
    response = client.get("/whoami", headers=bearer(issuer.mint(claims={**GOOD, **claims})))
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    body = response.json()
    assert body["error"] == "invalid_token"
    if claim is not None:
        assert f"'{claim}'" in body["error_description"]
    assert MARK not in response.text
    assert MARK not in challenge
    assert "tenant-c" not in response.text


def test_nan_in_a_token_never_reaches_the_rules(issuer: Issuer) -> None:
    # The JWS parser refuses NaN/Infinity members; the token is 401 before any rule runs.
    client = _client("asgi", issuer)
    token = issuer.mint(claims=GOOD)
    header, payload, signature = token.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raw["tid"] = float("nan")
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode()
    response = client.get("/whoami", headers=bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
