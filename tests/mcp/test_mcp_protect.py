"""jwtgate.mcp: protect() and JWTGateTokenVerifier, each serving an MCPServer under uvicorn."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from jwtgate import Authenticator, ConfigurationError, Settings
from jwtgate._verify.verifier import VerifiedToken
from jwtgate.mcp import JWTGateTokenVerifier, access_token, protect
from jwtgate.testing import Issuer, override

from helpers import ws_call
from servers import free_port, uvicorn_server

# Loopback without a port: the DNS-rebinding allowlist then takes any loopback port.
RESOURCE = "http://127.0.0.1/tools"


def tool_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("test")

    @server.tool()
    def caller() -> dict[str, Any]:
        """Who the SDK says is calling."""
        token = get_access_token()
        assert token is not None
        return {"sub": token.subject, "client_id": token.client_id, "scopes": token.scopes}

    return server


async def call(url: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return (await client.call_tool("caller", {})).structured_content


@pytest.mark.integration
@pytest.mark.anyio
async def test_protect_serves_at_the_resource_path(issuer: Issuer) -> None:
    settings = Settings(issuer=issuer.issuer, resource=RESOURCE)
    authenticator = Authenticator(settings, transport=issuer.transport())
    app = protect(tool_server(), scopes=["mcp:tools"], authenticator=authenticator)
    token = issuer.mint(
        sub="carol", scopes=["mcp:tools", "extra"], audience=RESOURCE, claims={"azp": "app-1"}
    )
    with uvicorn_server(app) as base:
        assert await call(f"{base}/tools", token) == {
            "sub": "carol", "client_id": "app-1", "scopes": ["extra", "mcp:tools"],
        }  # fmt: skip
        async with httpx.AsyncClient(base_url=base) as http:
            document = await http.get("/.well-known/oauth-protected-resource/tools")
            assert document.json()["resource"] == RESOURCE
            # An Authenticator brings its own settings: they are not rewritten.
            assert "scopes_supported" not in document.json()
            assert (
                await http.post("/mcp", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 404


@pytest.mark.integration
@pytest.mark.anyio
async def test_protect_answers_503_while_keys_cannot_be_had(issuer: Issuer) -> None:
    closed = f"http://127.0.0.1:{free_port()}/jwks"
    settings = Settings(issuer=issuer.issuer, resource=RESOURCE, jwks_url=closed)
    app = protect(tool_server(), scopes=["mcp:tools"], settings=settings)
    token = issuer.mint(scopes=["mcp:tools"], audience=RESOURCE)
    with uvicorn_server(app) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            response = await http.post("/tools", headers={"Authorization": f"Bearer {token}"})
            document = await http.get("/.well-known/oauth-protected-resource/tools")
    assert response.status_code == 503  # Never 401: the token may be fine.
    assert response.headers["retry-after"]
    assert response.json()["error"] == "temporarily_unavailable"
    assert document.json()["scopes_supported"] == ["mcp:tools"]  # From scopes=.


@pytest.mark.integration
@pytest.mark.anyio
async def test_token_verifier_for_the_sdks_own_auth(issuer: Issuer) -> None:
    settings = Settings(issuer=issuer.issuer, resource=RESOURCE)
    verifier = JWTGateTokenVerifier(
        authenticator=Authenticator(settings, transport=issuer.transport())
    )
    server: MCPServer[Any] = MCPServer(
        "test",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=issuer.issuer, resource_server_url=RESOURCE,
            required_scopes=["mcp:tools"], validate_token_resource=True,
        ),
    )  # fmt: skip

    @server.tool()
    def caller() -> str | None:
        """The caller's sub."""
        token = get_access_token()
        return token.subject if token else None

    app = server.streamable_http_app(streamable_http_path="/tools")
    good = issuer.mint(sub="dave", scopes=["mcp:tools"], audience=RESOURCE)
    with uvicorn_server(app) as base:
        assert await call(f"{base}/tools", good) == {"result": "dave"}
        async with httpx.AsyncClient(base_url=base) as http:
            bad = issuer.mint(scopes=["mcp:tools"], audience="elsewhere")
            refused = await http.post("/tools", headers={"Authorization": f"Bearer {bad}"})
    assert refused.status_code == 401
    await verifier.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mint", "refused"),
    [
        pytest.param({"audience": RESOURCE}, False, id="good"),
        pytest.param({"audience": "elsewhere"}, True, id="audience"),
        pytest.param({"audience": RESOURCE, "expires_in": -600}, True, id="expired"),
    ],
)
async def test_token_verifier_answers_none_for_refused_tokens(
    issuer: Issuer, mint: dict[str, Any], refused: bool
) -> None:
    settings = Settings(issuer=issuer.issuer, resource=RESOURCE)
    verifier = JWTGateTokenVerifier(
        authenticator=Authenticator(settings, transport=issuer.transport())
    )
    answer = await verifier.verify_token(issuer.mint(**mint))
    assert (answer is None) is refused
    await verifier.aclose()


@pytest.mark.anyio
async def test_token_verifier_answers_none_during_an_outage(issuer: Issuer) -> None:
    settings = Settings(
        issuer=issuer.issuer, resource=RESOURCE, jwks_url=f"http://127.0.0.1:{free_port()}/j"
    )
    verifier = JWTGateTokenVerifier(settings)
    assert await verifier.verify_token(issuer.mint(audience=RESOURCE)) is None
    await verifier.aclose()


def verified(claims: dict[str, Any]) -> VerifiedToken:
    full = {"iss": "https://i.example", "exp": 2_000_000_000.5, **claims}
    return VerifiedToken(full, {"alg": "RS256"}, frozenset(("b", "a")))


@pytest.mark.parametrize(
    ("claims", "client_id", "resource"),
    [
        pytest.param({"aud": RESOURCE, "client_id": "c"}, "c", RESOURCE, id="aud-is-resource"),
        pytest.param({"aud": ["x", RESOURCE], "azp": "z"}, "z", RESOURCE, id="resource-in-list"),
        pytest.param({"aud": ["x", "api"]}, "", "api", id="other-accepted-audience"),
        pytest.param({"aud": "x"}, "", None, id="no-accepted-audience"),
        pytest.param({}, "", None, id="no-aud"),
    ],
)
def test_access_token_mapping(claims: dict[str, Any], client_id: str, resource: str | None) -> None:
    settings = Settings(issuer="https://i.example", audience="api", resource=RESOURCE)
    token = access_token(verified({"sub": "s", **claims}), "t.o.k", settings)
    assert token.client_id == client_id
    assert token.resource == resource
    assert token.scopes == ["a", "b"]
    assert token.expires_at == 2_000_000_000
    assert token.subject == "s"
    assert token.claims is not None
    assert token.claims["iss"] == "https://i.example"


def test_protect_needs_a_resource() -> None:
    with pytest.raises(ConfigurationError) as caught:
        protect(tool_server(), settings=Settings(issuer="https://i.example", audience="api"))
    assert caught.value.setting == "JWTGATE_RESOURCE"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"scopes": ["two words"]}, ValueError, id="bad-scope"),
        pytest.param({"json_response": True}, TypeError, id="options-for-a-plain-app"),
    ],
)
def test_protect_refuses(kwargs: dict[str, Any], error: type[Exception]) -> None:
    settings = Settings(issuer="https://i.example", resource=RESOURCE)
    with pytest.raises(error):
        protect(Starlette(), settings=settings, **kwargs)


@pytest.mark.integration
@pytest.mark.anyio
async def test_override_points_a_protected_server_at_a_dev_issuer(issuer: Issuer) -> None:
    # How an MCP author tests: production settings, retargeted at the testing kit's issuer.
    settings = Settings(issuer="https://login.example.com/", resource=RESOURCE)
    app = override(protect(tool_server(), scopes=["mcp:tools"], settings=settings), issuer)
    token = issuer.mint(sub="erin", scopes=["mcp:tools"], audience=RESOURCE)
    with uvicorn_server(app) as base:
        answer = await call(f"{base}/tools", token)
    assert answer == {"sub": "erin", "client_id": "", "scopes": ["mcp:tools"]}


@pytest.mark.integration
@pytest.mark.anyio
async def test_dns_rebinding_allowlist_is_the_resource_host(issuer: Issuer) -> None:
    resource = "https://mcp.example.com/tools"
    settings = Settings(issuer=issuer.issuer, resource=resource)
    authenticator = Authenticator(settings, transport=issuer.transport())
    app = protect(tool_server(), authenticator=authenticator, json_response=True)
    headers = {
        "Authorization": f"Bearer {issuer.mint(audience=resource)}",
        "Accept": "application/json, text/event-stream",
    }
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "0"}},
    }  # fmt: skip
    with uvicorn_server(app) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            public = await http.post(
                "/tools", json=initialize, headers={**headers, "Host": "mcp.example.com"}
            )
            loopback = await http.post("/tools", json=initialize, headers=headers)
    assert public.status_code == 200
    assert public.headers["content-type"] == "application/json"  # json_response reached the SDK.
    assert loopback.status_code == 421


@pytest.mark.anyio
async def test_websockets_without_the_scopes_are_closed(issuer: Issuer) -> None:
    async def endpoint(websocket: Any) -> None:
        await websocket.accept()

    inner = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    settings = Settings(issuer=issuer.issuer, resource=RESOURCE)
    authenticator = Authenticator(settings, transport=issuer.transport())
    app = protect(inner, scopes=["mcp:tools"], authenticator=authenticator)
    refused = await ws_call(app, issuer.mint(scopes=["other"], audience=RESOURCE))
    accepted = await ws_call(app, issuer.mint(scopes=["mcp:tools"], audience=RESOURCE))
    assert refused == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    assert accepted[0]["type"] == "websocket.accept"
