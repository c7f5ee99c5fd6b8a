"""The development issuer's token endpoint, login page, PKCE and CORS (in-process and served)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from jwtgate import Authenticator
from jwtgate.testing import Issuer, serve

ISSUER = "https://issuer.test"
REDIRECT = "http://127.0.0.1:8000/docs/oauth2-redirect"


@pytest.fixture
def issuer() -> Issuer:
    return Issuer(ISSUER, audience="my-api")


@pytest.fixture
def client(issuer: Issuer) -> httpx.Client:
    return httpx.Client(transport=issuer.transport(), base_url=ISSUER)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(client: httpx.Client, challenge: str, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": "swagger", "redirect_uri": REDIRECT,
              "scope": "openid items:read", "state": "xyz", "code_challenge": challenge,
              "code_challenge_method": "S256"} | extra  # fmt: skip
    return params


def verified(issuer: Issuer, token: str) -> object:
    with Authenticator(issuer.settings(), sync_transport=issuer.transport()) as auth:
        return auth.authenticate_sync(token)


def test_discovery_names_the_endpoints(client: httpx.Client) -> None:
    document = client.get("/.well-known/openid-configuration").json()
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "items:read" in document["scopes_supported"]


def test_client_credentials(issuer: Issuer, client: httpx.Client) -> None:
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                               "client_id": "svc", "scope": "items:read"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    token = verified(issuer, body["access_token"])
    assert token.subject == "svc"  # type: ignore[attr-defined]
    assert token.scopes == {"items:read"}  # type: ignore[attr-defined]


def test_resource_parameter_becomes_the_audience(issuer: Issuer, client: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "client_id": "svc",
            "resource": "http://127.0.0.1:9000/mcp"}  # fmt: skip
    token = client.post("/oauth/token", data=form).json()["access_token"]
    settings = issuer.settings(audience=("http://127.0.0.1:9000/mcp",))
    with Authenticator(settings, sync_transport=issuer.transport()) as auth:
        assert auth.authenticate_sync(token).claims["aud"] == "http://127.0.0.1:9000/mcp"


def test_client_credentials_with_basic_auth(issuer: Issuer, client: httpx.Client) -> None:
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("svc", "secret"))  # fmt: skip
    assert verified(issuer, answer.json()["access_token"]).subject == "svc"  # type: ignore[attr-defined]


def test_authorization_code_with_pkce_through_the_login_page(
    issuer: Issuer, client: httpx.Client
) -> None:
    verifier, challenge = pkce()
    params = authorize(client, challenge)
    page = client.get("/authorize", params=params)
    assert page.status_code == 200
    assert "Development sign-in" in page.text
    assert re.search(r'value="items:read" checked', page.text)
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form = [*hidden.items(), ("sub", "bob"), ("grant_scope", "items:read"),
            ("grant_scope", "items:write"), ("roles", "admin, auditor"), ("mfa", "1")]  # fmt: skip
    redirect = client.post(
        "/authorize", content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    query = parse_qs(location.query)
    assert location._replace(query="").geturl() == REDIRECT
    assert query["state"] == ["xyz"]
    exchange = {"grant_type": "authorization_code", "code": query["code"][0],
                "redirect_uri": REDIRECT, "client_id": "swagger", "code_verifier": verifier}  # fmt: skip
    answer = client.post("/oauth/token", data=exchange)
    assert answer.status_code == 200, answer.text
    token = verified(issuer, answer.json()["access_token"])
    assert token.subject == "bob"  # type: ignore[attr-defined]
    assert token.scopes == {"items:read", "items:write"}  # type: ignore[attr-defined]
    assert token.claims["roles"] == ["admin", "auditor"]  # type: ignore[attr-defined]
    assert token.claims["acr"] == "mfa"  # type: ignore[attr-defined]
    again = client.post("/oauth/token", data=exchange)
    assert again.status_code == 400  # A code is used once.
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"code_verifier": "wrong"}, "invalid_grant", id="bad-verifier"),
        pytest.param(
            {"redirect_uri": "http://127.0.0.1:9/x"}, "invalid_grant", id="other-redirect"
        ),
        pytest.param({"client_id": "other"}, "invalid_grant", id="other-client"),
        pytest.param({"grant_type": "password"}, "unsupported_grant_type", id="password-grant"),
    ],
)
def test_token_requests_that_are_refused(
    client: httpx.Client, change: dict[str, str], error: str
) -> None:
    verifier, challenge = pkce()
    params = authorize(client, challenge)
    form = {k: v for k, v in params.items() if k != "scope"} | {"grant_scope": "items:read"}
    code = parse_qs(urlsplit(client.post("/authorize", data=form).headers["location"]).query)
    exchange = {"grant_type": "authorization_code", "code": code["code"][0],
                "redirect_uri": REDIRECT, "client_id": "swagger", "code_verifier": verifier}  # fmt: skip
    answer = client.post("/oauth/token", data=exchange | change)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        pytest.param(
            {"redirect_uri": "https://evil.test/cb"}, 400, "loopback", id="remote-redirect"
        ),
        pytest.param({"code_challenge": ""}, 302, "PKCE", id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, 302, "PKCE", id="plain-pkce"),
        pytest.param({"response_type": "token"}, 302, "unsupported_response_type", id="implicit"),
    ],
)
def test_authorization_requests_that_are_refused(
    client: httpx.Client, change: dict[str, str], status: int, text: str
) -> None:
    _, challenge = pkce()
    answer = client.get("/authorize", params=authorize(client, challenge, **change))
    assert answer.status_code == status
    assert text in (answer.text + answer.headers.get("location", "").replace("+", " "))


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        pytest.param("http://127.0.0.1:8000", True, id="loopback-v4"),
        pytest.param("http://localhost:3000", True, id="localhost"),
        pytest.param("https://evil.test", False, id="remote"),
        pytest.param("null", False, id="null-origin"),
    ],
)
def test_cors_for_local_origins_only(client: httpx.Client, origin: str, allowed: bool) -> None:
    preflight = client.options("/oauth/token", headers={"Origin": origin})
    got = client.get("/.well-known/openid-configuration", headers={"Origin": origin})
    for answer in (preflight, got):
        assert (answer.headers.get("access-control-allow-origin") == origin) is allowed


def test_served_issuer_answers_the_token_endpoint_and_refuses_remote_binding() -> None:
    with serve(audience="my-api") as issuer, httpx.Client() as client:
        answer = client.post(f"{issuer.url}/oauth/token",
                             data={"grant_type": "client_credentials", "client_id": "svc"})  # fmt: skip
        assert answer.status_code == 200
        assert verified(issuer, answer.json()["access_token"]) is not None
    with pytest.raises(ValueError, match="loopback"), serve(host="0.0.0.0"):
        pass


def test_fully_specified_eddsa_names_sign_and_verify() -> None:
    for alg in ("Ed25519", "Ed448", "EdDSA"):
        issuer = Issuer(ISSUER, audience="my-api", algorithm=alg)
        token = issuer.mint()
        assert verified(issuer, token) is not None


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "error"),
    [
        pytest.param("GET", "/oauth/token", {}, 405, "invalid_request", id="token-by-get"),
        pytest.param("POST", "/oauth/token", {"data": {"grant_type": "client_credentials"}},
                     401, "invalid_client", id="no-client-id"),
        pytest.param("POST", "/oauth/token", {"data": {"grant_type": "client_credentials"},
                     "headers": {"Authorization": "Basic !!!"}}, 401, "invalid_client",
                     id="malformed-basic"),
        pytest.param("POST", "/oauth/token", {"data": {"grant_type": "client_credentials"},
                     "headers": {"Authorization": "Bearer x"}}, 401, "invalid_client",
                     id="other-scheme"),
        pytest.param("GET", "/nowhere", {}, 404, "not_found", id="unknown-path"),
    ],
)  # fmt: skip
def test_bad_requests_get_json_errors(
    client: httpx.Client, method: str, path: str, kwargs: dict, status: int, error: str
) -> None:
    answer = client.request(method, path, **kwargs)
    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_authorize_without_client_id_shows_an_error_page(client: httpx.Client) -> None:
    _, challenge = pkce()
    params = authorize(client, challenge)
    del params["client_id"]
    answer = client.get("/authorize", params=params)
    assert answer.status_code == 400
    assert "no client_id" in answer.text


def test_dev_keys_refuse_what_they_cannot_sign() -> None:
    from jwtgate.testing import DevKey

    with pytest.raises(ValueError, match="cannot sign"):
        DevKey.generate("HS256")
    pem = DevKey.generate("ES256").to_pem()
    with pytest.raises(ValueError, match="does not fit"):
        DevKey.from_pem(pem, "RS256")
