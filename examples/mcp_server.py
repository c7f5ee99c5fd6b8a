"""The jwtgate MCP example: an MCP server (official ``mcp`` SDK) as an OAuth resource server.

Streamable HTTP at ``/mcp``; every MCP request needs a valid token with scope
``mcp:tools``; the RFC 9728 metadata is at ``/.well-known/oauth-protected-resource/mcp``.
Configured from the environment, with ``JWTGATE_RESOURCE`` set to the server's URL::

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_RESOURCE=http://127.0.0.1:8000/mcp \
        .venv/bin/python -m uvicorn examples.mcp_server:app
"""

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import MCPServer

from jwtgate.mcp import protect

mcp = MCPServer("jwtgate-example")


@mcp.tool()
def whoami() -> str | None:
    """The caller's `sub`: who the access token was issued to."""
    token = get_access_token()
    return token.subject if token is not None else None


# Reads JWTGATE_* at import, so that a bad value stops the server at once.
app = protect(mcp, scopes=["mcp:tools"])
