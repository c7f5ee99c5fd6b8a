"""The contract's "Sender-constrained tokens" section through the ASGI and WSGI middleware."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from jwtgate import JWTGateMiddleware, Settings
from jwtgate.testing import DevKey, Issuer, app_client, dpop_headers, dpop_proof

from dpop_kit import URL, Face
from helpers import DPOP_CHALLENGE, protected_app

SECRET = "n" * 32
BEARER = 'Bearer realm="api"'


def challenges(response: httpx.Response) -> list[str]:
    return response.headers.get_list("www-authenticate")


def dpop(issuer: Issuer, key: DevKey, url: str = URL, method: str = "GET", **mint: Any) -> Any:
    mint.setdefault("scopes", ["items:read"])
    return dpop_headers(issuer.mint(dpop_key=key, **mint), key, method, url)


@pytest.mark.parametrize("mode", ["allowed", "required"])
def test_a_bound_token_with_a_valid_proof_passes(
    face: Face, issuer: Issuer, client_key: DevKey, mode: str
) -> None:
    client = face(dpop=mode)
    assert client.get("/items", headers=dpop(issuer, client_key)).status_code == 200
    # The scheme is case-insensitive (RFC 7235).
    headers = dpop(issuer, client_key)
    headers["Authorization"] = headers["Authorization"].replace("DPoP", "dpop")
    assert client.get("/items", headers=headers).status_code == 200


@pytest.mark.parametrize("mode", ["allowed", "required", "disabled"])
def test_a_token_with_cnf_is_never_a_bearer_token(
    face: Face, issuer: Issuer, client_key: DevKey, mode: str
) -> None:
    client = face(dpop=mode)
    for cnf in ({"jkt": client_key.thumbprint()}, {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc"}):
        token = issuer.mint(scopes=["items:read"], claims={"cnf": cnf})
        for _ in range(2):  # The second time from the token cache.
            response = client.get("/items", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401
            assert response.json()["error"] == "invalid_token"
            bearer = [c for c in challenges(response) if c.startswith("Bearer ")]
            assert bearer[0].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        pytest.param("allowed", [BEARER, DPOP_CHALLENGE], id="allowed"),
        pytest.param("required", [DPOP_CHALLENGE, BEARER], id="required"),
        pytest.param("disabled", [BEARER], id="disabled"),
    ],
)
def test_challenges_without_a_token(face: Face, mode: str, expected: list[str]) -> None:
    response = face(dpop=mode).get("/items")
    assert response.status_code == 401
    assert challenges(response) == expected
    # Another scheme counts as no token: the same challenges.
    assert challenges(face(dpop=mode).get("/items", headers={"Authorization": "Basic eA=="})) == (
        expected
    )


def test_plain_bearer_tokens_pass_unless_dpop_is_required(face: Face, issuer: Issuer) -> None:
    token = {"Authorization": f"Bearer {issuer.mint(scopes=['items:read'])}"}
    assert face().get("/items", headers=token).status_code == 200
    assert face(dpop="disabled").get("/items", headers=token).status_code == 200
    refused = face(dpop="required").get("/items", headers=token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    first, second = challenges(refused)
    assert first == DPOP_CHALLENGE  # Under required the DPoP challenge comes first,
    assert second.startswith('Bearer error="invalid_token"')  # the error on the scheme used.


def test_disabled_counts_the_dpop_scheme_as_no_token(
    face: Face, issuer: Issuer, client_key: DevKey
) -> None:
    response = face(dpop="disabled").get("/items", headers=dpop(issuer, client_key))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert challenges(response) == [BEARER]


def test_a_failed_proof_answers_on_the_dpop_challenge(
    face: Face, issuer: Issuer, client_key: DevKey
) -> None:
    headers = dpop(issuer, client_key, method="POST")
    response = face().get("/items", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"
    first, second = challenges(response)
    assert first.startswith('DPoP error="invalid_dpop_proof", error_description="')
    assert f'algs="{DPOP_CHALLENGE.split(chr(34))[1]}"' in first
    assert second == BEARER


def test_insufficient_scope_under_dpop_is_on_the_dpop_challenge(
    face: Face, issuer: Issuer, client_key: DevKey
) -> None:
    response = face().get("/items", headers=dpop(issuer, client_key, scopes=["other"]))
    assert response.status_code == 403
    first, second = challenges(response)
    assert first.startswith('DPoP error="insufficient_scope"')
    assert 'scope="items:read"' in first
    assert second == BEARER


def test_a_dpop_token_without_cnf_is_invalid_token(
    face: Face, issuer: Issuer, client_key: DevKey
) -> None:
    token = issuer.mint(scopes=["items:read"])
    headers = dpop_headers(token, client_key, "GET", URL)
    response = face().get("/items", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert challenges(response)[0].startswith('DPoP error="invalid_token"')


@pytest.mark.parametrize(
    ("proofs", "status"),
    [
        pytest.param(0, 401, id="no-proof"),
        pytest.param(2, 401, id="two-proof-headers"),
        pytest.param(3, 401, id="three-proof-headers"),
    ],
)
def test_proof_count(
    face: Face, issuer: Issuer, client_key: DevKey, proofs: int, status: int
) -> None:
    token = issuer.mint(scopes=["items:read"], dpop_key=client_key)
    headers = [("Authorization", f"DPoP {token}")]
    values = [dpop_proof(client_key, "GET", URL, access_token=token) for _ in range(proofs)]
    if face.kind == "wsgi" and values:  # type: ignore[attr-defined]
        # WSGI servers join repeated headers with "," (httpx's WSGI transport keeps the last).
        values = [", ".join(values)]
    headers += [("DPoP", value) for value in values]
    response = face().get("/items", headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_accepted_once(face: Face, issuer: Issuer, client_key: DevKey) -> None:
    client = face()
    headers = dpop(issuer, client_key)
    assert client.get("/items", headers=headers).status_code == 200
    replay = client.get("/items", headers=headers)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_dpop_proof"
    # Another client's key cannot use up this client's jti (the store keys on both).
    other = DevKey.generate("ES256")
    token = issuer.mint(scopes=["items:read"], dpop_key=other)
    jti = "shared-jti"
    for key, tok in ((client_key, issuer.mint(scopes=["items:read"], dpop_key=client_key)),
                     (other, token)):  # fmt: skip
        proof = dpop_proof(key, "GET", URL, access_token=tok, jti=jti)
        ok = client.get("/items", headers={"Authorization": f"DPoP {tok}", "DPoP": proof})
        assert ok.status_code == 200


def test_a_proof_by_another_key_is_refused(
    face: Face, issuer: Issuer, client_key: DevKey, other_key: DevKey
) -> None:
    token = issuer.mint(scopes=["items:read"], dpop_key=client_key)
    response = face().get("/items", headers=dpop_headers(token, other_key, "GET", URL))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"


def test_htu_origin_comes_from_the_resource_never_from_host(
    face: Face, issuer: Issuer, client_key: DevKey
) -> None:
    client = face(resource="https://api.example.com")
    good = dpop(issuer, client_key, url="https://api.example.com/items")
    assert client.get("/items", headers=good).status_code == 200
    # A proof for the Host the request claims, or for X-Forwarded-Host, does not count.
    for spoof in ({"Host": "evil.test"}, {"X-Forwarded-Host": "evil.test"}):
        headers = {**dpop(issuer, client_key, url="http://evil.test/items"), **spoof}
        response = client.get("/items", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_dpop_proof"
    # Without a resource, the Host header is the origin.
    plain = face()
    assert plain.get("/items", headers=dpop(issuer, client_key)).status_code == 200


def test_server_nonces(face: Face, issuer: Issuer, client_key: DevKey) -> None:
    client = face(use_dpop_nonce=True, dpop_nonce_secrets=[SECRET])
    token = issuer.mint(scopes=["items:read"], dpop_key=client_key)
    first = client.get("/items", headers=dpop_headers(token, client_key, "GET", URL))
    assert first.status_code == 401
    assert first.json()["error"] == "use_dpop_nonce"
    assert challenges(first)[0].startswith('DPoP error="use_dpop_nonce"')
    nonce = first.headers["dpop-nonce"]
    headers = dpop_headers(token, client_key, "GET", URL, nonce=nonce)
    ok = client.get("/items", headers=headers)
    assert ok.status_code == 200
    assert ok.headers["dpop-nonce"] == nonce  # Successful answers carry the current nonce.
    # Another worker (another middleware with the same secret) accepts the same nonce.
    other = face(use_dpop_nonce=True, dpop_nonce_secrets=[SECRET])
    headers = dpop_headers(token, client_key, "GET", URL, nonce=nonce)
    assert other.get("/items", headers=headers).status_code == 200


def test_app_client_sends_dpop_requests(issuer: Issuer, client_key: DevKey) -> None:
    settings = issuer.settings(use_dpop_nonce=True, dpop_nonce_secrets=[SECRET])
    app = JWTGateMiddleware(protected_app(), settings)
    client = app_client(app, issuer, dpop_key=client_key)
    token = issuer.mint(scopes=["items:read"], dpop_key=client_key)
    # DPoPAuth adds a proof, learns the nonce from the first answer and retries.
    for _ in range(2):
        response = client.get("/items?page=2", headers={"Authorization": f"DPoP {token}"})
        assert response.status_code == 200, response.text
    assert client.get("/items", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        pytest.param("http://api.test/ws", True, id="http-url-of-the-handshake"),
        pytest.param("http://api.test/other", False, id="other-path"),
    ],
)
async def test_websocket_handshake_with_dpop(
    issuer: Issuer, client_key: DevKey, url: str, accepted: bool
) -> None:
    async def accept(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    app = JWTGateMiddleware(accept, issuer.settings(), transport=issuer.transport())
    headers = dpop(issuer, client_key, url=url)
    scope = {
        "type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"",
        "root_path": "", "scheme": "ws", "server": ("t", 80), "client": ("c", 1),
        "headers": [(b"host", b"api.test")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "subprotocols": [], "extensions": {}, "asgi": {"version": "3.0"},
    }  # fmt: skip
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[Any] = []

    async def receive() -> Any:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0] == ({"type": "websocket.accept"} if accepted else
                       {"type": "websocket.close", "code": 1008, "reason": ""})  # fmt: skip


def test_rejections_log_no_token_or_proof(
    face: Face, issuer: Issuer, client_key: DevKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jwtgate")
    headers = dpop(issuer, client_key, method="PUT")
    response = face().get("/items", headers=headers)
    assert response.status_code == 401
    for value in (headers["DPoP"], headers["Authorization"][5:]):
        for piece in value.split("."):
            assert piece not in caplog.text
            assert piece not in response.text


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        pytest.param({"JWTGATE_DPOP": "sometimes"}, "JWTGATE_DPOP", id="mode"),
        pytest.param({"JWTGATE_DPOP_ALGORITHMS": "HS256"}, "JWTGATE_DPOP_ALGORITHMS", id="hs"),
        pytest.param({"JWTGATE_DPOP_ALGORITHMS": "none"}, "JWTGATE_DPOP_ALGORITHMS", id="none"),
        pytest.param({"JWTGATE_DPOP_MAX_AGE": "0"}, "JWTGATE_DPOP_MAX_AGE", id="max-age"),
        pytest.param({"JWTGATE_USE_DPOP_NONCE": "true"}, "JWTGATE_DPOP_NONCE_SECRETS", id="nonce"),
        pytest.param({"JWTGATE_USE_DPOP_NONCE": "true", "JWTGATE_DPOP_NONCE_SECRETS": "short"},
                     "JWTGATE_DPOP_NONCE_SECRETS", id="short-secret"),
        pytest.param({"JWTGATE_REDIS_URL": "http://cache:6379"}, "JWTGATE_REDIS_URL", id="scheme"),
        pytest.param({"JWTGATE_REDIS_URL": "redis://:pw@h:x/0"}, "JWTGATE_REDIS_URL", id="port"),
        pytest.param({"JWTGATE_RESOURCE": "http://api.example.com"}, "JWTGATE_RESOURCE",
                     id="resource-http"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_variable(overrides: dict[str, str], variable: str) -> None:
    env = {"JWTGATE_ISSUER": "https://issuer.test", "JWTGATE_AUDIENCE": "api", **overrides}
    with pytest.raises(Exception, match=variable) as caught:
        Settings.from_env(env)
    assert "pw" not in str(caught.value)  # A Redis password is never repeated.


def test_settings_repr_hides_redis_password_and_nonce_secrets() -> None:
    settings = Settings(
        issuer="https://issuer.test",
        audience=["api"],
        redis_url="redis://:hunter2-secret@127.0.0.1:6379/0",
        use_dpop_nonce=True,
        dpop_nonce_secrets=["x" * 40],
    )
    assert "hunter2" not in repr(settings)
    assert "x" * 40 not in repr(settings)
