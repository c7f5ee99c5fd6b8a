"""requires_scope on Starlette functions, HTTPEndpoint methods, websockets and FastAPI."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi import WebSocket as FastAPIWebSocket
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, requires_scope
from jwtgate.testing import Issuer

from helpers import bearer, first_challenge, ws_call

pytestmark = pytest.mark.anyio


@requires_scope("a")
async def async_view(request: StarletteRequest) -> PlainTextResponse:
    return PlainTextResponse("async")


@requires_scope("a")
def sync_view(request: StarletteRequest) -> PlainTextResponse:
    return PlainTextResponse("sync")


@requires_scope("a", "b")
async def two_scopes(req: StarletteRequest) -> PlainTextResponse:  # Any parameter name works.
    return PlainTextResponse("both")


@requires_scope()
async def any_user(request: StarletteRequest) -> PlainTextResponse:
    return PlainTextResponse("user")


class Endpoint(HTTPEndpoint):
    @requires_scope("a")
    async def get(self, request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("endpoint-get")

    @requires_scope("b")
    def post(self, request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("endpoint-post")


def starlette_app(issuer: Issuer) -> Any:
    app = Starlette(
        routes=[
            Route("/async", async_view),
            Route("/sync", sync_view),
            Route("/two", two_scopes),
            Route("/any", any_user),
            Route("/endpoint", Endpoint),
        ]
    )
    return JWTGateMiddleware(app, issuer.settings(), transport=issuer.transport())


def fastapi_app(issuer: Issuer) -> Any:
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=issuer.settings(), transport=issuer.transport())

    async def common(limit: int = 10) -> int:
        return limit

    @app.get("/plain/{item_id}")
    @requires_scope("a")
    async def plain(item_id: int, q: str = "none", limit: int = Depends(common)) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.get("/with-request")
    @requires_scope("a")
    def with_request(request: Request) -> dict[str, Any]:
        return {"sub": request.user.subject}

    @app.websocket("/ws")
    @requires_scope("a")
    async def ws(websocket: FastAPIWebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


@pytest.fixture
async def client(issuer: Issuer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(starlette_app(issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path", "scopes", "status", "body"),
    [
        pytest.param("GET", "/async", ["a"], 200, "async", id="async-ok"),
        pytest.param("GET", "/async", ["b"], 403, None, id="async-missing"),
        pytest.param("GET", "/sync", ["a"], 200, "sync", id="sync-ok"),
        pytest.param("GET", "/sync", [], 403, None, id="sync-missing"),
        pytest.param("GET", "/two", ["a", "b"], 200, "both", id="two-ok"),
        pytest.param("GET", "/two", ["a"], 403, None, id="two-partial"),
        pytest.param("GET", "/any", [], 200, "user", id="any-user"),
        pytest.param("GET", "/endpoint", ["a"], 200, "endpoint-get", id="endpoint-async"),
        pytest.param("POST", "/endpoint", ["b"], 200, "endpoint-post", id="endpoint-sync"),
        pytest.param("POST", "/endpoint", ["a"], 403, None, id="endpoint-missing"),
    ],
)
async def test_starlette_endpoints(
    client: httpx.AsyncClient,
    issuer: Issuer,
    method: str,
    path: str,
    scopes: list[str],
    status: int,
    body: str | None,
) -> None:
    response = await client.request(method, path, headers=bearer(issuer.mint(scopes=scopes)))
    assert response.status_code == status
    if body is not None:
        assert response.text == body
    else:
        assert response.json()["error"] == "insufficient_scope"
        assert first_challenge(response).startswith('Bearer error="insufficient_scope"')


async def test_403_names_every_needed_scope(client: httpx.AsyncClient, issuer: Issuer) -> None:
    response = await client.get("/two", headers=bearer(issuer.mint(scopes=["a"])))
    assert 'scope="a b"' in first_challenge(response)
    assert response.json()["scope"] == "a b"


@pytest.mark.parametrize("path", ["/async", "/sync", "/any", "/endpoint"])
async def test_anonymous_gets_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'


async def test_fastapi_injection_still_works(issuer: Issuer) -> None:
    transport = httpx.ASGITransport(fastapi_app(issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        ok = await c.get(
            "/plain/7", params={"q": "x", "limit": 3}, headers=bearer(issuer.mint(scopes=["a"]))
        )
        assert ok.json() == {"item_id": 7, "q": "x", "limit": 3}
        bad = await c.get("/plain/7", headers=bearer(issuer.mint(scopes=["b"])))
        assert bad.status_code == 403
        assert bad.json()["error"] == "insufficient_scope"
        anon = await c.get("/plain/7")
        assert anon.status_code == 401
        assert (
            await c.get("/with-request", headers=bearer(issuer.mint(sub="zoe", scopes=["a"])))
        ).json() == {"sub": "zoe"}
        openapi = (await c.get("/openapi.json")).json()
        params = {p["name"] for p in openapi["paths"]["/plain/{item_id}"]["get"]["parameters"]}
        assert params == {
            "item_id",
            "q",
            "limit",
        }  # The hidden connection parameter is not a query param.


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        pytest.param(["a"], ["websocket.accept", "websocket.close"], id="allowed"),
        pytest.param(["b"], ["websocket.close"], id="missing-scope"),
    ],
)
async def test_fastapi_websocket(issuer: Issuer, scopes: list[str], expected: list[str]) -> None:
    sent = await ws_call(fastapi_app(issuer), issuer.mint(scopes=scopes))
    assert [m["type"] for m in sent] == expected
    if expected == ["websocket.close"]:
        assert sent[0]["code"] == 1008


@pytest.mark.parametrize("scope", ["", "a b", 'a"b', "a\\b", "é", 5])
def test_invalid_scope_tokens_are_refused_at_decoration(scope: Any) -> None:
    with pytest.raises(ValueError, match="scope token"):
        requires_scope(scope)


async def test_without_middleware_the_mistake_is_explained() -> None:
    app = Starlette(routes=[Route("/x", async_view)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        with pytest.raises(RuntimeError, match="add JWTGateMiddleware"):
            await c.get("/x")


async def test_signature_is_preserved_for_introspection() -> None:
    import inspect

    assert async_view.__name__ == "async_view"
    assert "request" in inspect.signature(async_view).parameters
    assert inspect.iscoroutinefunction(async_view)
    assert not inspect.iscoroutinefunction(sync_view)


async def test_user_json_response(issuer: Issuer) -> None:
    @requires_scope("a")
    async def me(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"sub": request.user.subject})

    app = JWTGateMiddleware(
        Starlette(routes=[Route("/me", me)]), issuer.settings(), transport=issuer.transport()
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/me", headers=bearer(issuer.mint(sub="u1", scopes=["a"])))).json() == {
            "sub": "u1"
        }
