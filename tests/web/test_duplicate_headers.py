"""Repeated ``Authorization`` headers: one table of shapes, every face and server.

WSGI servers join repeated headers into one environ value (gunicorn and werkzeug with
``,``, others with ``", "``); the ASGI face sees them apart. Either way every duplicate
shape is ``400 invalid_request``, on every route the middleware guards. Real servers
(uvicorn, gunicorn) run the example apps on 127.0.0.1; the in-process clients are
httpx's ASGI transport and werkzeug's test client (which joins like the servers do;
httpx's WSGI transport keeps only the last value, so it cannot show duplicates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, Settings
from jwtgate._web.rfc6750 import split_joined
from jwtgate.flask import requires_scope
from jwtgate.testing import DevKey, Issuer
from jwtgate.testing.server import serve

from helpers import protected_app
from servers import server_process

BASIC = "Basic dXNlcjpwYXNz"

# (Authorization values, "{t}" standing for a valid token) -> status and error code.
SHAPES = [
    pytest.param(["Bearer {t}", "Bearer {t}"], 400, "invalid_request", id="same-twice"),
    pytest.param(["Bearer {t}", "Bearer x.y.z"], 400, "invalid_request", id="two-tokens"),
    pytest.param([BASIC, "Bearer {t}"], 400, "invalid_request", id="basic-then-bearer"),
    pytest.param(["Bearer {t}", BASIC], 400, "invalid_request", id="bearer-then-basic"),
    pytest.param(["Bearer {t}", ""], 400, "invalid_request", id="second-empty"),
    pytest.param(["", "Bearer {t}"], 400, "invalid_request", id="first-empty"),
    pytest.param([BASIC, BASIC], 400, "invalid_request", id="basic-twice"),
    pytest.param(["Bearer {t}"], 200, None, id="one-bearer"),
    pytest.param([BASIC], 401, None, id="one-basic"),
    pytest.param(['Digest username="a, b", realm="c"'], 401, None, id="one-digest-with-commas"),
    pytest.param([], 401, None, id="none"),
]

Call = Callable[[str, list[tuple[str, str]]], tuple[int, dict[str, str], Any]]


@pytest.fixture(scope="module")
def live_issuer() -> Iterator[Issuer]:
    with serve(audience="api://dup", keys=[DevKey.generate("RS256", kid="dup-1")]) as issuer:
        yield issuer


def _http(client: httpx.Client) -> Call:
    def call(path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        response = client.get(path, headers=headers)
        return response.status_code, dict(response.headers), response.json()

    return call


def _flask(middleware: Any) -> Call:
    app = Flask("dup")
    app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]
    app.add_url_rule("/public", "public", lambda: {"ok": True})
    app.add_url_rule("/me", "me", requires_scope()(lambda: {"ok": True}))
    client = app.test_client()

    def call(path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        response = client.get(path, headers=headers)
        return response.status_code, dict(response.headers), response.get_json()

    return call


def _asgi(settings: Settings) -> Call:
    import anyio

    # Without a lifespan the keys are fetched on demand, with a client per call.

    def call(path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], Any]:
        path = {"/me": "/items", "/public": "/whoami"}[path]

        async def go() -> httpx.Response:
            app = JWTGateMiddleware(protected_app(), settings)
            asgi = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=asgi, base_url="http://t") as client:
                response = await client.get(path, headers=headers)
            await app.authenticator.aclose()
            return response

        response = anyio.run(go)
        return response.status_code, dict(response.headers), response.json()

    return call


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("asgi-in-process"),
        pytest.param("werkzeug-test-client"),
        pytest.param("uvicorn", marks=pytest.mark.integration),
        pytest.param("gunicorn", marks=pytest.mark.integration),
    ],
)
def face(request: pytest.FixtureRequest, live_issuer: Issuer) -> Iterator[tuple[Call, Issuer]]:
    issuer = live_issuer
    if request.param in ("uvicorn", "gunicorn"):
        target = "examples.app:app" if request.param == "uvicorn" else "examples.flask_app:app"
        env = {"JWTGATE_ISSUER": issuer.issuer, "JWTGATE_AUDIENCE": issuer.audience}
        with server_process(target, env) as base, httpx.Client(base_url=base, timeout=10) as client:
            yield _http(client), issuer
        return
    settings = Settings(issuer=issuer.issuer, audience=issuer.audience, jwks_url=issuer.jwks_url)
    if request.param == "werkzeug-test-client":
        middlewares: list[JWTGateWSGIMiddleware] = []

        def wrap(app: Any) -> JWTGateWSGIMiddleware:
            middlewares.append(JWTGateWSGIMiddleware(app, settings))
            return middlewares[-1]

        yield _flask(wrap), issuer
        middlewares[0].close()
    else:
        yield _asgi(settings), issuer


@pytest.mark.parametrize("path", ["/me", "/public"])
@pytest.mark.parametrize(("values", "status", "error"), SHAPES)
def test_duplicate_authorization_headers(
    face: tuple[Call, Issuer], path: str, values: list[str], status: int, error: str | None
) -> None:
    call, issuer = face
    token = issuer.mint(scopes=["items:read"])
    headers = [("Authorization", v.replace("{t}", token)) for v in values]
    got, response_headers, body = call(path, headers)
    if path == "/public" and error is None:
        assert got == 200  # Anonymous or authenticated, the open route answers.
        return
    assert got == status
    if error is not None:
        assert body["error"] == error
        assert f'error="{error}"' in response_headers["www-authenticate"]
        assert token not in str(body)


@pytest.mark.parametrize(
    ("value", "values"),
    [
        pytest.param(None, [], id="absent"),
        pytest.param("Bearer t", ["Bearer t"], id="one"),
        pytest.param("Bearer t,Bearer u", ["Bearer t", "Bearer u"], id="gunicorn-join"),
        pytest.param("Bearer t, Bearer u", ["Bearer t", "Bearer u"], id="comma-space-join"),
        pytest.param("bearer t,", ["bearer t", ""], id="empty-second"),
        pytest.param(",Bearer t", ["", "Bearer t"], id="empty-first"),
        pytest.param("Basic x, Bearer t", ["Basic x", "Bearer t"], id="basic-first"),
        pytest.param("Basic x, Basic", ["Basic x", "Basic"], id="scheme-alone"),
        pytest.param('Digest a="1", b="2"', ['Digest a="1", b="2"'], id="auth-params"),
        pytest.param('Digest a = "1" , b', ['Digest a = "1"', "b"], id="auth-param-then-token"),
        pytest.param(
            'Digest a="x, Bearer t", b="2"', ['Digest a="x, Bearer t", b="2"'], id="quoted-comma"
        ),
        pytest.param('Digest a="\\", Bearer t"', ['Digest a="\\", Bearer t"'], id="escaped-quote"),
    ],
)
def test_split_joined(value: str | None, values: list[str]) -> None:
    assert split_joined(value) == values
