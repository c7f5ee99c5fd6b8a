"""The example apps as a user runs them, from the repo root: uvicorn (ASGI), gunicorn (Flask)."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from jwtgate.testing import Issuer

from helpers import bearer, first_challenge
from servers import (
    ROOT,
    clean_env,
    free_port,
    server_command,
    server_process,
)

pytestmark = pytest.mark.integration
ASGI_EXAMPLES = ["examples.app:app", "examples.fastapi_app:app"]
EXAMPLES = [*ASGI_EXAMPLES, "examples.flask_app:app"]


@pytest.mark.parametrize("target", EXAMPLES)
def test_example_routes_follow_the_contract(jwtgate_live_issuer: Issuer, target: str) -> None:
    issuer = jwtgate_live_issuer  # The pytest plugin's issuer, on a loopback port.
    env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": f" other , {issuer.audience} "}
    with server_process(target, env) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/public").status_code == 200
        # Concurrent first requests (gunicorn threads, uvicorn tasks) share one key fetch.
        token = bearer(issuer.mint())
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: client.get("/me", headers=token).status_code, range(8))
            )
        assert statuses == [200] * 8
        assert client.get("/me").status_code == 401
        me = client.get("/me", headers=bearer(issuer.mint(sub="alice", scopes=["b", "a", "b"])))
        assert me.status_code == 200
        assert me.json()["sub"] == "alice"
        assert me.json()["scopes"] == ["a", "b"]
        no_sub = client.get("/me", headers=bearer(issuer.mint(sub=None)))
        assert no_sub.status_code == 200
        assert no_sub.json()["sub"] is None
        read, write = issuer.mint(scopes=["items:read"]), issuer.mint(scopes=["items:write"])
        assert client.get("/items", headers=bearer(read)).status_code == 200
        assert client.get("/items", headers=bearer(write)).status_code == 403
        assert client.post("/items", headers=bearer(write)).status_code == 200
        forbidden = client.post("/items", headers=bearer(read))
        assert forbidden.status_code == 403
        assert 'scope="items:write"' in first_challenge(forbidden)
        assert client.get("/me", headers={"Authorization": "Bearer"}).status_code == 400
        assert client.get("/me", headers=bearer(issuer.mint(expires_in=-3600))).status_code == 401
        if "fastapi" in target:
            openapi = client.get("/openapi.json").json()
            scheme = openapi["components"]["securitySchemes"]["jwtgate"]
            assert scheme == {
                "type": "openIdConnect",
                "openIdConnectUrl": issuer.issuer + "/.well-known/openid-configuration",
            }
            paths = openapi["paths"]
            assert "security" not in paths["/public"]["get"]
            assert paths["/me"]["get"]["security"] == [{"jwtgate": []}]
            assert paths["/items"]["get"]["security"] == [{"jwtgate": ["items:read"]}]
            assert paths["/items"]["post"]["security"] == [{"jwtgate": ["items:write"]}]
    assert issuer.requests.count("/.well-known/jwks.json") == 1


@pytest.mark.parametrize("target", EXAMPLES)
def test_example_starts_with_the_issuer_down_and_answers_503(target: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    issuer = Issuer(dead, audience="example-api")
    env = {"JWTGATE_ISSUER": dead, "JWTGATE_AUDIENCE": "example-api", "JWTGATE_HTTP_TIMEOUT": "1"}
    with server_process(target, env) as base:
        response = httpx.get(base + "/me", headers=bearer(issuer.mint()), timeout=10)
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert response.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize(
    "target", [*EXAMPLES, "tests.apps:env_configured_app", "tests.apps:env_configured_wsgi_app"]
)
@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({"JWTGATE_AUDIENCE": "a"}, "JWTGATE_ISSUER", id="missing-issuer"),
        pytest.param(
            {"JWTGATE_ISSUER": "https://i.example"}, "JWTGATE_AUDIENCE", id="missing-audience"
        ),
        pytest.param(
            {
                "JWTGATE_ISSUER": "https://i.example",
                "JWTGATE_AUDIENCE": "a",
                "JWTGATE_LEEWAY": "-3",
            },
            "JWTGATE_LEEWAY",
            id="negative-leeway",
        ),
        pytest.param(
            {
                "JWTGATE_ISSUER": "https://i.example",
                "JWTGATE_AUDIENCE": "a",
                "JWTGATE_ALGORITHMS": "RS256,none",
            },
            "JWTGATE_ALGORITHMS",
            id="alg-none",
        ),
        pytest.param(
            {
                "JWTGATE_ISSUER": "https://i.example",
                "JWTGATE_AUDIENCE": "a",
                "JWTGATE_JWKS_URL": "http://keys.example/jwks",
            },
            "JWTGATE_JWKS_URL",
            id="http-jwks",
        ),
    ],
)
def test_bad_settings_stop_the_server_naming_the_variable(
    target: str, env: dict[str, str], variable: str
) -> None:
    # Under gunicorn the worker fails to boot and the arbiter exits (code 3); a
    # SystemExit in the worker would instead be restarted forever (the timeout fails it).
    result = subprocess.run(
        server_command(target, free_port()),
        cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    if server_command(target, 0)[2] == "gunicorn":
        assert result.returncode == 3  # Gunicorn's "worker failed to boot".
    assert variable in result.stderr
