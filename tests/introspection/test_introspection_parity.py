"""The ASGI and WSGI faces answer opaque tokens with the same status and challenge."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opaque_apps import asgi_client, wsgi_client

from jwtgate.testing import Issuer

from helpers import bearer

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# (how to get the token from the issuer, path, expected status)
CASES = [
    pytest.param(lambda i: i.mint_opaque(scopes=["items:read"]), "/items", 200, id="valid"),
    pytest.param(lambda i: i.mint_opaque(scopes=["other"]), "/items", 403, id="missing-scope"),
    pytest.param(lambda i: i.mint_opaque(expires_in=-5), "/whoami", 401, id="expired"),
    pytest.param(lambda i: i.mint_opaque(audience="x"), "/whoami", 401, id="wrong-audience"),
    pytest.param(
        lambda i: i.mint_opaque(claims={"token_type": "refresh_token"}),
        "/whoami",
        401,
        id="refresh-token",
    ),
    pytest.param(lambda i: "unknown-token", "/whoami", 401, id="unknown"),
    pytest.param(lambda i: i.mint(scopes=["items:read"]), "/items", 200, id="jwt"),
]


def revoked(issuer: Issuer) -> str:
    token = issuer.mint_opaque()
    issuer.revoke(token)
    return token


CASES.append(pytest.param(revoked, "/whoami", 401, id="revoked"))


@pytest.mark.parametrize(("make", "path", "status"), CASES)
async def test_asgi_and_wsgi_agree(
    live: Issuer, make: Callable[[Issuer], str], path: str, status: int
) -> None:
    token = make(live)
    settings = live.settings(introspection=True)
    async with asgi_client(settings) as client:
        asgi = await client.get(path, headers=bearer(token))
    with wsgi_client(settings) as client:
        wsgi = client.get(path, headers=bearer(token))
    assert asgi.status_code == wsgi.status_code == status
    if status == 401:
        assert asgi.headers["www-authenticate"] == wsgi.headers["www-authenticate"]
        assert asgi.json() == wsgi.json()
