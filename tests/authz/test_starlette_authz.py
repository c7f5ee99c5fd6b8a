"""The Starlette decorators: endpoints, websockets, stacking, and mistakes refused at import."""

import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from jwtgate import (
    JWTGateMiddleware,
    Requirement,
    Settings,
    requires,
    requires_role,
    requires_scope,
    requires_step_up,
)
from jwtgate.testing import Issuer, app_client

from helpers import bearer, ws_call

pytestmark = pytest.mark.anyio


class Accounts(HTTPEndpoint):
    @requires_role("admin")
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("accounts")

    @requires_step_up(acr_values="mfa")
    def post(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("moved")


@requires_scope("a")
@requires_role("admin")
@requires_scope(any_of=["x", "y"])
async def stacked(request: Request) -> PlainTextResponse:
    return PlainTextResponse("stacked")


@requires_step_up(acr_values="mfa", max_age=60)
async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


def app(issuer: Issuer, settings: Settings | None = None) -> Any:
    routes = [
        Route("/accounts", Accounts),
        Route("/stacked", stacked),
        WebSocketRoute("/ws", socket),
    ]
    return JWTGateMiddleware(
        Starlette(routes=routes), settings or issuer.settings(), transport=issuer.transport()
    )


def test_stacked_decorators_join_into_one_requirement() -> None:
    requirement = stacked.__jwtgate_requirement__  # type: ignore[attr-defined]
    assert requirement == Requirement(scopes=("a",), any_scopes=(("x", "y"),), roles=("admin",))
    assert stacked.__jwtgate_scopes__ == ("a",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "claims", "status"),
    [
        pytest.param("GET", {"roles": ["admin"]}, 200, id="role"),
        pytest.param("GET", {"roles": ["user"]}, 403, id="no-role"),
        pytest.param("POST", {"acr": "mfa"}, 200, id="sync-step-up"),
        pytest.param("POST", {"acr": "pwd"}, 401, id="sync-step-up-refused"),
    ],
)
def test_http_endpoint_methods(
    issuer: Issuer, method: str, claims: dict[str, Any], status: int
) -> None:
    client = app_client(app(issuer))
    response = client.request(method, "/accounts", headers=bearer(issuer.mint(claims=claims)))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("scopes", "claims", "status", "challenge"),
    [
        pytest.param(["a", "y"], {"roles": ["admin"]}, 200, None, id="all-met"),
        pytest.param(["a"], {"roles": ["admin"]}, 403, 'scope="a x"', id="any-of-missing"),
        pytest.param(["y"], {"roles": ["admin"]}, 403, 'scope="a x"', id="all-of-missing"),
        pytest.param(["a", "x"], {}, 403, None, id="role-missing"),
    ],
)
def test_stacked_requirements_answer(
    issuer: Issuer, scopes: list[str], claims: dict[str, Any], status: int, challenge: str | None
) -> None:
    client = app_client(app(issuer))
    response = client.get("/stacked", headers=bearer(issuer.mint(scopes=scopes, claims=claims)))
    assert response.status_code == status
    if status == 403:
        header = response.headers["www-authenticate"]
        assert (challenge in header) if challenge else ("scope=" not in header)


@pytest.mark.parametrize(
    ("claims", "extensions", "expected"),
    [
        pytest.param({"acr": "mfa", "auth_time": "now"}, {}, ["websocket.accept", "websocket.close"], id="met"),
        pytest.param({"acr": "pwd", "auth_time": "now"}, {}, ["websocket.close"], id="close-1008"),
        pytest.param(
            {"acr": "mfa"}, {"websocket.http.response": {}},
            ["websocket.http.response.start", "websocket.http.response.body"], id="denial-response",
        ),
    ],
)  # fmt: skip
async def test_websocket_step_up(
    issuer: Issuer, claims: dict[str, Any], extensions: dict[str, Any], expected: list[str]
) -> None:
    claims = {k: time.time() if v == "now" else v for k, v in claims.items()}
    sent = await ws_call(app(issuer), issuer.mint(claims=claims), extensions)
    assert [m["type"] for m in sent] == expected
    if expected == ["websocket.close"]:
        assert sent[0]["code"] == 1008
    if "websocket.http.response.start" in expected:
        assert sent[0]["status"] == 401
        challenges = [v for k, v in sent[0]["headers"] if k == b"www-authenticate"]
        assert b'error="insufficient_user_authentication"' in challenges[0]  # The Bearer one.
        assert b'max_age="60"' in challenges[0]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        pytest.param(lambda: requires_role("a b"), ValueError, id="role-with-space"),
        pytest.param(lambda: requires_scope(any_of=['a"']), ValueError, id="bad-any-of"),
        pytest.param(requires_step_up, ValueError, id="step-up-without-anything"),
        pytest.param(lambda: requires_step_up(max_age=-1), ValueError, id="negative-max-age"),
        pytest.param(lambda: requires_step_up(max_age=float("nan")), ValueError, id="nan-max-age"),
        pytest.param(lambda: requires_step_up(max_age=True), ValueError, id="bool-max-age"),
        pytest.param(lambda: requires_step_up(acr_values=["é"]), ValueError, id="non-ascii-acr"),
        pytest.param(lambda: requires(check="nope"), TypeError, id="check-not-callable"),  # type: ignore[arg-type]
        pytest.param(
            lambda: requires_step_up("a")(requires_step_up("b")(stacked)),
            ValueError,
            id="conflicting-acr",
        ),
    ],
)
def test_mistakes_are_refused_at_decoration(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


def test_requirement_alternatives_are_bounded() -> None:
    groups = Requirement.of(any_scopes=[f"s{i}" for i in range(40)])
    assert len(groups.scope_alternatives()) == 16
    wide = Requirement(any_scopes=tuple(tuple(f"g{j}-{i}" for i in range(10)) for j in range(6)))
    assert len(wide.scope_alternatives()) <= 16
