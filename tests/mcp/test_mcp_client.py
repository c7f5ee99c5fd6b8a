"""The SDK's own MCP client, over streamable HTTP on loopback, against examples/mcp_server.py."""

from __future__ import annotations

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import MCPExample

pytestmark = pytest.mark.integration


async def call_whoami(example: MCPExample, token: str) -> tuple[list[str], object]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(example.resource, http_client=http)
        async with Client(transport) as client:
            tools = await client.list_tools()
            result = await client.call_tool("whoami", {})
    return [tool.name for tool in tools.tools], result


@pytest.mark.anyio
async def test_sdk_client_calls_whoami_with_a_token(mcp_example: MCPExample) -> None:
    token = mcp_example.issuer.mint(sub="alice", scopes=["mcp:tools"], audience=mcp_example.resource)
    names, result = await call_whoami(mcp_example, token)
    assert "whoami" in names
    print(result)
