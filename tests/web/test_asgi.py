"""JWTGateMiddleware in-process: the HTTP behaviour of shared/CONTRACT.md."""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwtgate import JWTGateMiddleware, TokenUser
from jwtgate.testing import Issuer

from helpers import bearer, first_challenge, ws_call

pytestmark = pytest.mark.anyio
Make = Callable[..., httpx.AsyncClient]


async def test_no_token_is_anonymous(make_client: Make) -> None:
    async with make_client() as client:
        response = await client.get("/whoami")
    assert response.status_code == 200
    assert response.json() == {"authenticated": False, "sub": None, "scopes": []}


async def test_valid_token_sets_user_and_scopes(make_client: Make, issuer: Issuer) -> None:
    token = issuer.mint(sub="alice", scopes=["b", "a"], claims={"scp": ["c", "a"]})
    async with make_client() as client:
        response = await client.get("/whoami", headers=bearer(token))
    assert response.json() == {"authenticated": True, "sub": "alice", "scopes": ["a", "b", "c"]}


@pytest.mark.parametrize("cached", [False, True], ids=["anonymous", "cached-token"])
async def test_each_request_gets_its_own_user_and_credentials(issuer: Issuer, cached: bool) -> None:
    # An app that changes request.auth (or request.user) must not change the next request's.
    seen: list[Any] = []

    async def grab(request: Request) -> PlainTextResponse:
        seen.append((request.user, request.auth))
        request.auth.scopes.append("admin")
        return PlainTextResponse(" ".join(request.auth.scopes))

    inner = Starlette(routes=[Route("/", grab)])
    app = JWTGateMiddleware(inner, issuer.settings(), transport=issuer.transport())
    headers = bearer(issuer.mint(scopes=["read"])) if cached else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        texts = [(await client.get("/", headers=headers)).text for _ in range(4)]
    assert texts == (["read admin"] * 4 if cached else ["admin"] * 4)
    users, creds = zip(*seen, strict=True)
    assert len({id(c) for c in creds}) == 4
    assert len({id(u) for u in users}) == 4


async def test_no_token_on_protected_route_is_401_without_error(make_client: Make) -> None:
    async with make_client() as client:
        response = await client.get("/items")
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'
    assert response.json()["error"] == "unauthorized"


def _hs256(issuer: Issuer) -> str:
    import jwt

    return jwt.encode(
        {"iss": issuer.issuer, "aud": issuer.audience, "exp": 9999999999}, "x" * 32, "HS256"
    )


@pytest.mark.parametrize(
    ("mint", "description"),
    [
        pytest.param(lambda i: i.mint(expires_in=-300), "expired", id="expired"),
        pytest.param(lambda i: i.mint(audience="other"), "audience", id="audience"),
        pytest.param(lambda i: i.mint(claims={"iss": "https://evil.test"}), "issuer", id="issuer"),
        pytest.param(lambda i: i.mint(headers={"kid": "unknown"}), "key", id="unknown-kid"),
        pytest.param(lambda i: i.mint()[:-4] + "AAAA", "signature", id="bad-signature"),
        pytest.param(lambda i: "not-a-jwt", "compact", id="malformed"),
        pytest.param(_hs256, "algorithm", id="hs256"),
    ],
)
async def test_unacceptable_token_is_401_invalid_token(
    make_client: Make, issuer: Issuer, mint: Any, description: str
) -> None:
    token = mint(issuer)
    async with make_client() as client:
        for path in ("/whoami", "/items"):
            response = await client.get(path, headers=bearer(token))
            assert response.status_code == 401
            challenge = first_challenge(response)
            assert challenge.startswith('Bearer error="invalid_token", error_description="')
            body = response.json()
            assert body["error"] == "invalid_token"
            assert description in body["error_description"]
            assert token not in response.text
            assert token not in challenge


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("authorization", "Bearer")], id="no-token"),
        pytest.param([("authorization", "Bearer   ")], id="only-spaces"),
        pytest.param([("authorization", "Bearer a.b.c extra")], id="extra-part"),
        pytest.param(
            [("authorization", "Bearer a"), ("authorization", "Bearer b")], id="two-headers"
        ),
    ],
)
async def test_malformed_header_is_400_invalid_request(
    make_client: Make, headers: list[tuple[str, str]]
) -> None:
    async with make_client() as client:
        response = await client.get("/whoami", headers=headers)
    assert response.status_code == 400
    assert 'error="invalid_request"' in first_challenge(response)
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_scheme_is_case_insensitive(make_client: Make, issuer: Issuer, scheme: str) -> None:
    async with make_client() as client:
        response = await client.get(
            "/items", headers={"Authorization": f"{scheme} {issuer.mint(scopes=['items:read'])}"}
        )
    assert response.status_code == 200


async def test_other_schemes_count_as_no_token(make_client: Make) -> None:
    async with make_client() as client:
        response = await client.get("/items", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'


async def test_tokens_in_the_query_string_are_not_read(make_client: Make, issuer: Issuer) -> None:
    token = issuer.mint(scopes=["items:read"])
    async with make_client() as client:
        response = await client.get("/items", params={"access_token": token})
    assert response.status_code == 401
    assert "error=" not in first_challenge(response)


async def test_insufficient_scope_is_403(make_client: Make, issuer: Issuer) -> None:
    async with make_client() as client:
        response = await client.get("/items", headers=bearer(issuer.mint(scopes=["other"])))
    assert response.status_code == 403
    challenge = first_challenge(response)
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert 'scope="items:read"' in challenge
    assert response.json()["error"] == "insufficient_scope"


async def test_keys_unobtainable_is_503_never_200(issuer: Issuer) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    app = JWTGateMiddleware(_app(), issuer.settings(), transport=httpx.MockTransport(down))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        response = await client.get("/whoami", headers=bearer(issuer.mint()))
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "temporarily_unavailable"
        # Requests without a token do not need keys.
        assert (await client.get("/whoami")).status_code == 200


async def test_excluded_paths_skip_authentication(make_client: Make, issuer: Issuer) -> None:
    settings = issuer.settings(exclude_paths=("/whoami", "/public/*"))
    async with make_client(settings) as client:
        response = await client.get("/whoami", headers=bearer("garbage"))
        assert response.status_code == 200
        assert response.json()["authenticated"] is False
        assert (await client.get("/items", headers=bearer("garbage"))).status_code == 401


async def test_realm_is_configurable(make_client: Make, issuer: Issuer) -> None:
    async with make_client(issuer.settings(realm="orders")) as client:
        response = await client.get("/items")
        assert first_challenge(response) == 'Bearer realm="orders"'
        response = await client.get("/items", headers=bearer("x.y.z"))
        assert first_challenge(response).endswith(', realm="orders"')


def _app() -> Starlette:
    @requires("items:read")
    async def starlette_requires(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def claims(request: Request) -> JSONResponse:
        user = request.user
        assert isinstance(user, TokenUser)
        return JSONResponse(
            {"claims": dict(user.claims), "display": user.display_name, "identity": user.identity}
        )

    async def whoami(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.user.is_authenticated))

    return Starlette(
        routes=[
            Route("/starlette", starlette_requires),
            Route("/claims", claims),
            Route("/whoami", whoami),
        ]
    )


async def test_starlettes_own_requires_works(issuer: Issuer) -> None:
    app = JWTGateMiddleware(_app(), issuer.settings(), transport=issuer.transport())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (
            await client.get("/starlette", headers=bearer(issuer.mint(scopes=["items:read"])))
        ).status_code == 200
        assert (await client.get("/starlette", headers=bearer(issuer.mint()))).status_code == 403
        response = await client.get(
            "/claims", headers=bearer(issuer.mint(sub="bob", claims={"tenant": "t1"}))
        )
        assert response.json()["claims"]["tenant"] == "t1"
        assert response.json()["display"] == "bob"
        assert response.json()["identity"] == "bob"


async def test_known_keys_cause_no_fetch(make_client: Make, issuer: Issuer) -> None:
    transport = issuer.transport()
    async with make_client(transport=transport) as client:
        for _ in range(20):
            assert (await client.get("/whoami", headers=bearer(issuer.mint()))).status_code == 200
    assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]


def _ws_app(issuer: Issuer) -> JWTGateMiddleware:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(str(websocket.user.is_authenticated))
        await websocket.close()

    return JWTGateMiddleware(
        Starlette(routes=[WebSocketRoute("/ws", ws)]),
        issuer.settings(),
        transport=issuer.transport(),
    )


async def test_websocket_with_valid_token(issuer: Issuer) -> None:
    sent = await ws_call(_ws_app(issuer), issuer.mint(), {})
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == "True"


async def test_websocket_with_bad_token_is_closed_before_accept(issuer: Issuer) -> None:
    sent = await ws_call(_ws_app(issuer), "bad.token.here", {})
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


async def test_websocket_denial_response_when_the_server_supports_it(issuer: Issuer) -> None:
    sent = await ws_call(_ws_app(issuer), "bad.token.here", {"websocket.http.response": {}})
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 401
    assert json.loads(sent[1]["body"])["error"] == "invalid_token"


async def test_lifespan_prefetches_keys_and_shuts_down(issuer: Issuer) -> None:
    import anyio

    transport = issuer.transport()
    app = JWTGateMiddleware(_app(), issuer.settings(), transport=transport)
    shutdown = anyio.Event()
    sent: list[str] = []

    async def receive() -> Any:
        if not sent:
            return {"type": "lifespan.startup"}
        await shutdown.wait()
        return {"type": "lifespan.shutdown"}

    started = anyio.Event()

    async def send(message: Any) -> None:
        sent.append(message["type"])
        started.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(
            app, {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send
        )
        with anyio.fail_after(5):
            await started.wait()
        for _ in range(500):  # The prefetch runs in the background, after startup.complete.
            if app.key_set.ready:
                break
            await anyio.sleep(0.01)
        assert app.key_set.ready
        assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]
        shutdown.set()
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_bad_env_refuses_lifespan_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTGATE_ISSUER", "https://issuer.test")
    monkeypatch.setenv("JWTGATE_AUDIENCE", "api")
    monkeypatch.setenv("JWTGATE_LEEWAY", "soon")
    app = JWTGateMiddleware(_app())
    assert app.config_error is not None
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "JWTGATE_LEEWAY" in sent[0]["message"]


async def test_error_headers_are_valid_and_bodies_json(make_client: Make) -> None:
    async with make_client() as client:
        for value in ["Bearer " + "é" * 10, 'Bearer "quoted"\\', "Bearer " + "a" * 20000]:
            response = await client.get("/whoami", headers={"Authorization": value.encode("utf-8")})
            assert response.status_code in (400, 401)
            challenge = first_challenge(response)
            assert challenge.isascii()
            assert challenge.count('"') % 2 == 0
            assert isinstance(json.loads(response.text)["error"], str)
