"""RFC 9728 protected resource metadata, served by both middlewares when JWTGATE_RESOURCE is set."""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Security

from jwtgate import (
    ASYMMETRIC_ALGORITHMS,
    IssuerConfig,
    JWTGateMiddleware,
    JWTGateWSGIMiddleware,
    Settings,
    TokenUser,
)
from jwtgate._web.metadata import build_metadata, dpop_policy, metadata_url
from jwtgate._web.wsgi import check_environ
from jwtgate.fastapi import JWTGateAuth
from jwtgate.testing import Issuer

from helpers import bearer, first_challenge, protected_app

RESOURCE = "https://api.example.com/mcp"
METADATA = "https://api.example.com/.well-known/oauth-protected-resource/mcp"
#: The DPoP challenge (RFC 9449 §7.1) that follows the Bearer one while DPoP is accepted.
DPOP = f'DPoP algs="{" ".join(ASYMMETRIC_ALGORITHMS)}", resource_metadata="{METADATA}", realm="api"'



def wsgi_items(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    refused = check_environ(environ, ("items:read",))
    if refused is not None:
        status, headers, body = refused
        start_response(f"{status} Refused", [(k.decode(), v.decode()) for k, v in headers])
        return [body]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"[]"]


def asgi_client(issuer: Issuer, settings: Settings) -> httpx.AsyncClient:
    app = JWTGateMiddleware(protected_app(), settings, transport=issuer.transport())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")


def wsgi_client(issuer: Issuer, settings: Settings) -> httpx.Client:
    app = JWTGateWSGIMiddleware(wsgi_items, settings, transport=issuer.transport())
    return httpx.Client(transport=httpx.WSGITransport(app), base_url="http://testserver")


async def get(
    issuer: Issuer, settings: Settings, path: str, *, wsgi: bool, **kwargs: Any
) -> httpx.Response:
    """One request to the ASGI (in-process) or the WSGI middleware."""
    if wsgi:
        with wsgi_client(issuer, settings) as client:
            return client.request(kwargs.pop("method", "GET"), path, **kwargs)
    async with asgi_client(issuer, settings) as client:
        return await client.request(kwargs.pop("method", "GET"), path, **kwargs)


EDGES = [pytest.param(False, id="asgi"), pytest.param(True, id="wsgi")]


@pytest.mark.parametrize(
    ("resource", "url"),
    [
        pytest.param(RESOURCE, METADATA, id="path"),
        pytest.param(
            "https://api.example.com", "https://api.example.com/.well-known/oauth-protected-resource",
            id="no-path",
        ),
        pytest.param(
            "https://api.example.com/", "https://api.example.com/.well-known/oauth-protected-resource",
            id="root-slash",
        ),
        pytest.param(
            "http://127.0.0.1:8000/a/b/", "http://127.0.0.1:8000/.well-known/oauth-protected-resource/a/b",
            id="loopback-nested-trailing-slash",
        ),
    ],
)  # fmt: skip
def test_metadata_url_inserts_the_well_known_path(resource: str, url: str) -> None:
    assert metadata_url(resource) == url


@pytest.mark.anyio
@pytest.mark.parametrize("wsgi", EDGES)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/.well-known/oauth-protected-resource/mcp", id="rfc9728-path"),
        pytest.param("/.well-known/oauth-protected-resource", id="bare-well-known"),
    ],
)
async def test_document_is_served_from_the_settings(issuer: Issuer, path: str, wsgi: bool) -> None:
    settings = issuer.settings(resource=RESOURCE, scopes_supported="mcp:tools, items:read")
    # Forwarded headers must not change what is advertised (the URL comes from settings only).
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    response = await get(issuer, settings, path, wsgi=wsgi, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "resource": RESOURCE,
        "authorization_servers": [issuer.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:tools", "items:read"],
        "dpop_signing_alg_values_supported": list(ASYMMETRIC_ALGORITHMS),
        "dpop_bound_access_tokens_required": False,
    }


@pytest.mark.anyio
@pytest.mark.parametrize("wsgi", EDGES)
@pytest.mark.parametrize(
    ("method", "status"),
    [
        pytest.param("HEAD", 200, id="head"),
        pytest.param("OPTIONS", 204, id="preflight"),
        pytest.param("POST", 405, id="post"),
        pytest.param("DELETE", 405, id="delete"),
    ],
)
async def test_other_methods(issuer: Issuer, method: str, status: int, wsgi: bool) -> None:
    settings = issuer.settings(resource=RESOURCE)
    path = "/.well-known/oauth-protected-resource/mcp"
    response = await get(issuer, settings, path, wsgi=wsgi, method=method)
    assert response.status_code == status
    assert response.content == b""
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.anyio
@pytest.mark.parametrize("wsgi", EDGES)
async def test_no_document_without_a_resource(issuer: Issuer, wsgi: bool) -> None:
    response = await get(
        issuer, issuer.settings(), "/.well-known/oauth-protected-resource", wsgi=wsgi
    )
    # The apps answer the path themselves: 404 (Starlette) or 401 (the WSGI app).
    assert response.status_code == (401 if wsgi else 404)
    assert "bearer_methods_supported" not in response.text


@pytest.mark.anyio
@pytest.mark.parametrize("wsgi", EDGES)
@pytest.mark.parametrize(
    ("token", "status", "challenge"),
    [
        pytest.param(
            None, 401,
            f'Bearer scope="items:read", resource_metadata="{METADATA}", realm="api"',
            id="no-token-names-scope",
        ),
        pytest.param(
            "expired", 401,
            'Bearer error="invalid_token", error_description="The token has expired.", '
            f'resource_metadata="{METADATA}", realm="api"',
            id="bad-token",
        ),
        pytest.param(
            "no-scope", 403,
            'Bearer error="insufficient_scope", error_description="The access token lacks a '
            f'scope this resource requires.", scope="items:read", resource_metadata="{METADATA}", '
            'realm="api"',
            id="insufficient-scope",
        ),
    ],
)  # fmt: skip
async def test_challenges_point_at_the_metadata(
    issuer: Issuer, token: str | None, status: int, challenge: str, wsgi: bool
) -> None:
    settings = issuer.settings(resource=RESOURCE)
    minted = {
        None: None,
        "expired": issuer.mint(expires_in=-3600),
        "no-scope": issuer.mint(scopes=["other"]),
    }[token]
    headers = bearer(minted) if minted else {}
    response = await get(issuer, settings, "/items", wsgi=wsgi, headers=headers)
    assert response.status_code == status
    assert response.headers.get_list("www-authenticate") == [challenge, DPOP]


@pytest.mark.anyio
@pytest.mark.parametrize("wsgi", EDGES)
async def test_without_a_resource_the_no_token_challenge_is_unchanged(
    issuer: Issuer, wsgi: bool
) -> None:
    response = await get(issuer, issuer.settings(), "/items", wsgi=wsgi)
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "This resource requires a bearer token.",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("audience", "token_aud", "status"),
    [
        pytest.param(None, RESOURCE, 200, id="resource-is-the-audience"),
        pytest.param(None, "api://test", 401, id="only-audience-when-unset"),
        pytest.param(None, ["other", RESOURCE], 200, id="in-a-list"),
        pytest.param(None, RESOURCE + "/", 401, id="compared-exactly"),
        pytest.param("api://test", RESOURCE, 200, id="added-to-audience"),
        pytest.param("api://test", "api://test", 200, id="audience-still-accepted"),
    ],
)
async def test_resource_is_an_accepted_audience(
    issuer: Issuer, audience: str | None, token_aud: Any, status: int
) -> None:
    settings = Settings(issuer=issuer.issuer, audience=audience, resource=RESOURCE)
    async with asgi_client(issuer, settings) as client:
        response = await client.get("/whoami", headers=bearer(issuer.mint(audience=token_aud)))
    assert response.status_code == status


def test_document_members() -> None:
    settings = Settings(
        issuers=[
            IssuerConfig(issuer="https://a.example/", audience="x"),
            IssuerConfig(issuer="legacy", audience="x", hmac_secret="s" * 32),
            IssuerConfig(issuer="https://b.example", audience="x"),
        ],
        resource="https://api.example.com",
        resource_documentation="https://docs.example.com/api",
    )
    document = build_metadata(settings)
    # A bare name is no RFC 8414 issuer identifier: nothing a client could discover.
    assert document["authorization_servers"] == ["https://a.example/", "https://b.example"]
    assert document["resource_documentation"] == "https://docs.example.com/api"
    assert "scopes_supported" not in document
    assert json.loads(json.dumps(document)) == document


@pytest.mark.anyio
async def test_fastapi_security_names_scope_and_metadata(issuer: Issuer) -> None:
    app = FastAPI()
    app.add_middleware(
        JWTGateMiddleware, settings=issuer.settings(resource=RESOURCE), transport=issuer.transport()
    )

    @app.get("/items")
    def items(
        user: Annotated[TokenUser, Security(JWTGateAuth(), scopes=["items:read"])],
    ) -> list[str]:
        return []

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        refused = await client.get("/items")
        served = await client.get("/.well-known/oauth-protected-resource/mcp")
    assert refused.status_code == 401
    assert first_challenge(refused) == (
        f'Bearer scope="items:read", resource_metadata="{METADATA}", realm="api"'
    )
    assert served.json()["resource"] == RESOURCE


@pytest.mark.parametrize(
    ("mode", "algs", "required"),
    [
        pytest.param(None, ASYMMETRIC_ALGORITHMS, False, id="default-allowed"),
        pytest.param("allowed", ASYMMETRIC_ALGORITHMS, False, id="allowed"),
        pytest.param("required", ASYMMETRIC_ALGORITHMS, True, id="required"),
        pytest.param("disabled", None, False, id="disabled"),
    ],
)
def test_dpop_policy_follows_the_mode(
    mode: str | None, algs: tuple[str, ...] | None, required: bool
) -> None:
    # The one place the metadata reads JWTGATE_DPOP (a field the DPoP work adds).
    settings: Any = types.SimpleNamespace() if mode is None else types.SimpleNamespace(dpop=mode)
    assert dpop_policy(settings) == (algs, required)


def test_document_without_url_issuers_or_resource() -> None:
    legacy = Settings(issuer="legacy", hmac_secret="s" * 32, resource="https://api.example.com")
    assert "authorization_servers" not in build_metadata(legacy)
    with pytest.raises(ValueError, match="resource"):
        build_metadata(Settings(issuer="https://i.example", audience="a"))
