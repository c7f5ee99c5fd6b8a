"""The SDK's own MCP client, over streamable HTTP on loopback, against examples/mcp_server.py.

The example runs under a real uvicorn (a subprocess, configured from the environment
as its docstring says) and trusts a development issuer on another loopback port.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.auth.utils import (
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
)
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import ProtectedResourceMetadata

pytestmark = pytest.mark.integration

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def whoami(example: Any, token: str) -> tuple[list[str], Any]:
    """Initialize, list the tools and call whoami with the SDK's client and *token*."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(example.resource, http_client=http)) as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool("whoami", {})
    return [tool.name for tool in tools.tools], result


async def post_initialize(example: Any, **headers: str) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(
            example.resource, json=INITIALIZE, headers={**MCP_HEADERS, **headers}
        )


@pytest.mark.anyio
async def test_sdk_client_initializes_lists_tools_and_calls_whoami(mcp_example: Any) -> None:
    token = mcp_example.issuer.mint(
        sub="alice", scopes=["mcp:tools"], audience=mcp_example.resource
    )
    names, result = await whoami(mcp_example, token)
    assert names == ["whoami"]
    assert not result.is_error
    assert result.structured_content == {"result": "alice"}


@pytest.mark.anyio
async def test_without_a_token_401_points_at_metadata_the_sdk_finds(mcp_example: Any) -> None:
    refused = await post_initialize(mcp_example)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized"
    # The SDK's own discovery steps (SEP-985): the header's URL first.
    pointer = extract_resource_metadata_from_www_auth(refused)
    assert pointer == f"{mcp_example.base}/.well-known/oauth-protected-resource/mcp"
    assert extract_scope_from_www_auth(refused) == "mcp:tools"
    urls = build_protected_resource_metadata_discovery_urls(pointer, mcp_example.resource)
    async with httpx2.AsyncClient(timeout=30) as http:
        found = [await http.get(url) for url in urls]
    assert [r.status_code for r in found] == [200, 200, 200]
    metadata = ProtectedResourceMetadata.model_validate_json(found[0].content)
    assert str(metadata.resource).rstrip("/") == mcp_example.resource
    assert found[0].json()["resource"] == mcp_example.resource  # Exactly the setting.
    assert [str(s).rstrip("/") for s in metadata.authorization_servers] == [
        mcp_example.issuer.issuer
    ]
    assert metadata.scopes_supported == ["mcp:tools"]
    assert metadata.bearer_methods_supported == ["header"]


@pytest.mark.anyio
async def test_sdk_client_without_a_token_is_refused(mcp_example: Any) -> None:
    seen: list[httpx2.Response] = []

    async def record(response: httpx2.Response) -> None:
        seen.append(response)

    async with httpx2.AsyncClient(timeout=30, event_hooks={"response": [record]}) as http:
        transport = streamable_http_client(mcp_example.resource, http_client=http)
        with pytest.raises(Exception):  # The SDK wraps its error in task groups.
            async with Client(transport) as client:
                await client.list_tools()
    assert seen
    assert {r.status_code for r in seen} == {401}
    assert all(extract_resource_metadata_from_www_auth(r) for r in seen)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mint", "status", "words"),
    [
        pytest.param(
            {"scopes": ["mcp:tools"], "audience": "jwtgate-dev"}, 401, 'error="invalid_token"',
            id="audience-not-the-resource",
        ),
        pytest.param(
            {"scopes": ["mcp:tools"], "expires_in": -600}, 401, 'error="invalid_token"',
            id="expired",
        ),
        pytest.param(
            {"scopes": ["mcp:read"]}, 403, 'error="insufficient_scope"',
            id="without-mcp-tools",
        ),
    ],
)  # fmt: skip
async def test_refused_tokens_keep_jwtgate_answers(
    mcp_example: Any, mint: dict[str, Any], status: int, words: str
) -> None:
    mint.setdefault("audience", mcp_example.resource)
    token = mcp_example.issuer.mint(**mint)
    refused = await post_initialize(mcp_example, Authorization=f"Bearer {token}")
    assert refused.status_code == status
    challenge = refused.headers["www-authenticate"]
    assert words in challenge
    assert f'resource_metadata="{mcp_example.base}/.well-known/' in challenge
    if status == 403:
        assert 'scope="mcp:tools"' in challenge


@pytest.mark.anyio
async def test_a_session_belongs_to_the_caller_that_opened_it(mcp_example: Any) -> None:
    # MCPUser is the SDK's user too, so the SDK ties each session to its caller.
    issuer, resource = mcp_example.issuer, mcp_example.resource
    alice = issuer.mint(sub="alice", scopes=["mcp:tools"], audience=resource)
    bob = issuer.mint(sub="bob", scopes=["mcp:tools"], audience=resource)
    opened = await post_initialize(mcp_example, Authorization=f"Bearer {alice}")
    assert opened.status_code == 200
    session = opened.headers["mcp-session-id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    async with httpx2.AsyncClient(timeout=30) as http:
        answers = {
            name: await http.post(
                resource,
                json=ping,
                headers={
                    **MCP_HEADERS,
                    "Authorization": f"Bearer {token}",
                    "mcp-session-id": session,
                    "mcp-protocol-version": "2025-06-18",
                },
            )
            for name, token in (("bob", bob), ("alice", alice))
        }
    assert answers["bob"].status_code == 404
    assert answers["alice"].status_code == 200


@pytest.mark.anyio
async def test_dns_rebinding_protection_follows_the_resource(mcp_example: Any) -> None:
    token = mcp_example.issuer.mint(scopes=["mcp:tools"], audience=mcp_example.resource)
    refused = await post_initialize(
        mcp_example, Authorization=f"Bearer {token}", Host="evil.example"
    )
    assert refused.status_code == 421


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client

    async def set_client_info(self, client_info: Any) -> None:
        self.client = client_info


def oauth_client(example: Any) -> httpx2.AsyncClient:
    """An httpx2 client whose auth is the SDK's client-credentials OAuth provider."""
    provider = ClientCredentialsOAuthProvider(
        server_url=example.resource, storage=MemoryStorage(), client_id="ci",
        client_secret="secret", issuer=example.issuer.issuer,
    )  # fmt: skip
    return httpx2.AsyncClient(auth=provider, timeout=30)


@pytest.mark.anyio
async def test_sdk_oauth_client_finds_the_authorization_server_from_the_401(
    mcp_example: Any,
) -> None:
    # 401 -> resource_metadata -> the document -> authorization_servers -> the issuer's
    # RFC 8414 metadata: the SDK only asks the dev issuer once every step before worked
    # (and its `issuer` argument makes it refuse any other authorization server).
    issuer = mcp_example.issuer
    before = len(issuer.requests)
    async with oauth_client(mcp_example) as http:
        try:
            async with Client(streamable_http_client(mcp_example.resource, http_client=http)):
                pass
        except Exception:
            pass  # Until the dev issuer has a token endpoint the SDK can use; see below.
    assert "/.well-known/oauth-authorization-server" in issuer.requests[before:]


@pytest.mark.anyio
async def test_sdk_oauth_client_gets_a_token_and_calls_whoami(mcp_example: Any) -> None:
    async with (
        oauth_client(mcp_example) as http,
        Client(streamable_http_client(mcp_example.resource, http_client=http)) as client,
    ):
        result = await client.call_tool("whoami", {})
    assert not result.is_error
    assert result.structured_content == {"result": "ci"}
