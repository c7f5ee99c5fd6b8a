"""The contract's "Opaque tokens (RFC 7662)" section on the three example apps, run as a user would."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from jwtgate.testing import Issuer

from helpers import bearer
from servers import server_process

pytestmark = pytest.mark.integration
EXAMPLES = ["examples.app:app", "examples.fastapi_app:app", "examples.flask_app:app"]


def introspection_env(issuer: Issuer, **extra: str) -> dict[str, str]:
    return {
        "JWTGATE_ISSUER": issuer.issuer,
        "JWTGATE_AUDIENCE": issuer.audience,
        "JWTGATE_INTROSPECTION_URL": issuer.introspection_url,
        "JWTGATE_INTROSPECTION_CLIENT_ID": issuer.opaque.client_id,
        "JWTGATE_INTROSPECTION_CLIENT_SECRET": issuer.opaque.client_secret,
        **extra,
    }


@pytest.mark.parametrize("target", EXAMPLES)
def test_opaque_tokens_follow_the_contract(live: Issuer, target: str) -> None:
    env = introspection_env(live, JWTGATE_INTROSPECTION_CACHE_TTL="0")
    with server_process(target, env) as base, httpx.Client(base_url=base, timeout=10) as client:
        token = live.mint_opaque(sub="alice", scopes=["items:read", "b", "a"])
        me = client.get("/me", headers=bearer(token))
        assert me.status_code == 200
        assert me.json()["sub"] == "alice"
        assert me.json()["scopes"] == ["a", "b", "items:read"]
        assert client.get("/items", headers=bearer(token)).status_code == 200
        forbidden = client.post("/items", headers=bearer(token))
        assert forbidden.status_code == 403
        assert 'scope="items:write"' in forbidden.headers["www-authenticate"]
        refused = [
            live.mint_opaque(expires_in=-10),  # The server says inactive.
            live.mint_opaque(claims={"exp": 1}),  # Active, says the server, but exp is past.
            live.mint_opaque(audience="someone-else"),
            live.mint_opaque(claims={"iss": "https://other.example"}),
            "never-minted",
        ]
        for bad in refused:
            response = client.get("/me", headers=bearer(bad))
            assert response.status_code == 401
            assert 'error="invalid_token"' in response.headers["www-authenticate"]
        live.revoke(token)
        assert client.get("/me", headers=bearer(token)).status_code == 401
        assert client.get("/me", headers=bearer(live.mint(sub="jwt"))).json()["sub"] == "jwt"
        live.opaque.fault = "error"
        down = client.get("/me", headers=bearer(live.mint_opaque()))
        assert down.status_code == 503
        assert down.headers["retry-after"]
        assert down.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("target", EXAMPLES)
def test_concurrent_first_requests_share_one_call(live: Issuer, target: str) -> None:
    with server_process(target, introspection_env(live)) as base:
        token = bearer(live.mint_opaque())
        with httpx.Client(base_url=base, timeout=10) as client, ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: client.get("/me", headers=token).status_code, range(8))
            )
            assert statuses == [200] * 8
            assert client.get("/me", headers=token).status_code == 200
    assert live.opaque.calls == 1


@pytest.mark.parametrize("target", EXAMPLES)
def test_roles_any_of_step_up_and_claim_rules_apply_to_opaque_tokens(
    live: Issuer, target: str
) -> None:
    env = introspection_env(live, JWTGATE_CLAIM_RULES='{"tenant": ["acme", "beta"]}')
    with server_process(target, env) as base, httpx.Client(base_url=base, timeout=10) as client:

        def get(path: str, method: str = "GET", **claims: object) -> httpx.Response:
            token = live.mint_opaque(claims={"tenant": "acme", **claims})
            return client.request(method, path, headers=bearer(token))

        me = get("/me", roles=["admin", "ops"])
        assert me.json()["roles"] == ["admin", "ops"]
        assert get("/admin", roles=["admin"]).status_code == 200
        denied = get("/admin", roles=["ops"])
        assert denied.status_code == 403
        assert "scope=" not in denied.headers["www-authenticate"]
        assert get("/reports", scope="admin:all").status_code == 200
        assert get("/reports", scope="items:read").status_code == 403
        now = int(time.time())
        assert get("/transfers", "POST", acr="mfa", auth_time=now).status_code == 200
        step_up = get("/transfers", "POST", acr="pwd", auth_time=now)
        assert step_up.status_code == 401
        assert 'error="insufficient_user_authentication"' in step_up.headers["www-authenticate"]
        broken = client.get("/me", headers=bearer(live.mint_opaque(claims={"tenant": "evil"})))
        assert broken.status_code == 401
        assert "tenant" in broken.json()["error_description"]
        assert "evil" not in broken.text
