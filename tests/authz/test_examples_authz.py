"""The example apps' authorization routes as a user runs them (uvicorn, gunicorn)."""

import subprocess
import time

import httpx
import pytest

from jwtgate.testing import Issuer

from helpers import bearer
from servers import ROOT, clean_env, free_port, server_command, server_process

pytestmark = pytest.mark.integration
EXAMPLES = ["examples.app:app", "examples.fastapi_app:app", "examples.flask_app:app"]


@pytest.mark.parametrize("target", EXAMPLES)
def test_example_authorization_routes(jwtgate_live_issuer: Issuer, target: str) -> None:
    issuer = jwtgate_live_issuer
    env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": issuer.audience}
    with server_process(target, env) as base, httpx.Client(base_url=base, timeout=10) as client:

        def call(method: str, path: str, **mint: object) -> httpx.Response:
            return client.request(method, path, headers=bearer(issuer.mint(**mint)))  # type: ignore[arg-type]

        me = call("GET", "/me", claims={"roles": ["b", "admin", "b"]})
        assert me.json()["roles"] == ["admin", "b"]
        assert call("GET", "/me").json()["roles"] == []

        assert client.get("/reports").status_code == 401
        assert call("GET", "/reports", scopes=["reports:read"]).status_code == 200
        assert call("GET", "/reports", scopes=["admin:all"]).status_code == 200
        denied = call("GET", "/reports", scopes=["items:read"])
        assert denied.status_code == 403
        challenge = denied.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert 'scope="reports:read"' in challenge

        assert call("GET", "/admin", claims={"roles": ["admin"]}).status_code == 200
        no_role = call("GET", "/admin", scopes=["admin"], claims={"roles": ["user"]})
        assert no_role.status_code == 403
        assert 'error="insufficient_scope"' in no_role.headers["www-authenticate"]
        assert "scope=" not in no_role.headers["www-authenticate"]

        now = time.time()
        ok = call("POST", "/transfers", claims={"acr": "mfa", "auth_time": now - 10})
        assert ok.status_code == 200
        for claims, attribute in [
            ({"auth_time": now}, 'acr_values="mfa"'),
            ({"acr": "pwd", "auth_time": now}, 'acr_values="mfa"'),
            ({"acr": "mfa"}, 'max_age="300"'),
            ({"acr": "mfa", "auth_time": now - 3600}, 'max_age="300"'),
        ]:
            weak = call("POST", "/transfers", claims=claims)
            assert weak.status_code == 401, claims
            challenge = weak.headers["www-authenticate"]
            assert 'error="insufficient_user_authentication"' in challenge
            assert attribute in challenge
        assert client.post("/transfers").status_code == 401
        if "fastapi" in target:
            paths = client.get("/openapi.json").json()["paths"]
            assert paths["/reports"]["get"]["security"] == [
                {"jwtgate": ["reports:read"]},
                {"jwtgate": ["admin:all"]},
            ]
            assert "`admin`" in paths["/admin"]["get"]["description"]
            assert "401" in paths["/transfers"]["post"]["responses"]


@pytest.mark.parametrize("target", EXAMPLES)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param('{"tid": []}', "key 'tid'", id="empty-list"),
        pytest.param("{not json", "not valid JSON", id="not-json"),
    ],
)
def test_bad_claim_rules_stop_the_server(target: str, value: str, fragment: str) -> None:
    env = {
        "JWTGATE_ISSUER": "https://i.example",
        "JWTGATE_AUDIENCE": "a",
        "JWTGATE_CLAIM_RULES": value,
    }
    result = subprocess.run(
        server_command(target, free_port()),
        cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "JWTGATE_CLAIM_RULES" in result.stderr
    assert fragment in result.stderr
