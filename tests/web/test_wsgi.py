"""JWTGateWSGIMiddleware and the Flask/Django helpers: the ASGI answers, for threads."""

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest
from flask import Flask

from jwtgate import JWTGateWSGIMiddleware, Settings
from jwtgate._web.rfc6750 import render_error
from jwtgate._web.wsgi import environ_user
from jwtgate.flask import current_user, requires_scope
from jwtgate.testing import DevKey, Issuer, app_client

from helpers import bearer, first_challenge
from servers import jwks_server


def whoami(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    user = environ_user(environ)
    body = {"sub": user.subject if user else None, "scopes": sorted(user.scopes) if user else []}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def client_for(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app), base_url="http://testserver")


def wsgi_client(issuer: Issuer, settings: Settings | None = None) -> httpx.Client:
    middleware = JWTGateWSGIMiddleware(
        whoami, settings or issuer.settings(), transport=issuer.transport()
    )
    return client_for(middleware)


def test_no_token_is_anonymous(issuer: Issuer) -> None:
    assert wsgi_client(issuer).get("/").json() == {"sub": None, "scopes": []}


def test_valid_token_sets_the_environ_user(issuer: Issuer) -> None:
    response = wsgi_client(issuer).get("/", headers=bearer(issuer.mint(sub="a", scopes=["x"])))
    assert response.json() == {"sub": "a", "scopes": ["x"]}


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        pytest.param({"Authorization": "Bearer"}, 400, "invalid_request", id="no-token"),
        pytest.param({"Authorization": "Bearer a b"}, 400, "invalid_request", id="extra-parts"),
        pytest.param({"Authorization": "Bearer not.a.jwt"}, 401, "invalid_token", id="malformed"),
        pytest.param({"Authorization": "Bearer " + "a" * 20000}, 401, "invalid_token", id="huge"),
        pytest.param(
            {"Authorization": "Bearer e30.e30.e30"}, 401, "invalid_token", id="empty-json"
        ),
    ],
)
def test_bad_requests_get_rfc6750_answers(
    issuer: Issuer, headers: dict[str, Any], status: int, error: str
) -> None:
    response = wsgi_client(issuer).get("/", headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert f'error="{error}"' in first_challenge(response)


def test_non_ascii_header_is_401_not_500(issuer: Issuer) -> None:
    # httpx's WSGITransport cannot send it; WSGI servers pass such bytes as latin-1.
    middleware = JWTGateWSGIMiddleware(whoami, issuer.settings(), transport=issuer.transport())
    started: list[str] = []
    environ = {"PATH_INFO": "/", "HTTP_AUTHORIZATION": "Bearer \xe9.\xe9.\xe9\x00"}
    body = b"".join(middleware(environ, lambda status, headers: started.append(status)))
    assert started == ["401 Unauthorized"]
    assert json.loads(body)["error"] == "invalid_token"


def test_expired_token_is_401_invalid_token(issuer: Issuer) -> None:
    response = wsgi_client(issuer).get("/", headers=bearer(issuer.mint(expires_in=-3600)))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_excluded_paths_skip_authentication(issuer: Issuer) -> None:
    settings = issuer.settings(exclude_paths=["/health", "/static/*"])
    client = wsgi_client(issuer, settings)
    assert client.get("/health", headers={"Authorization": "Bearer x"}).status_code == 200
    assert client.get("/static/a.css", headers={"Authorization": "Bearer x"}).status_code == 200
    assert client.get("/other", headers={"Authorization": "Bearer x"}).status_code == 401


def test_keys_unavailable_is_503_with_retry_after(issuer: Issuer) -> None:
    middleware = JWTGateWSGIMiddleware(
        whoami, issuer.settings(), transport=httpx.MockTransport(lambda r: httpx.Response(500))
    )
    response = client_for(middleware).get("/", headers=bearer(issuer.mint()))
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"] == "temporarily_unavailable"


def test_concurrent_threads_share_one_fetch(rsa_key: DevKey) -> None:
    with jwks_server() as server:
        issuer = Issuer(server.url, audience="api", keys=[rsa_key])
        server.documents["/jwks"] = issuer.jwks()
        server.delay = 0.2  # Every thread arrives while the first fetch is in flight.
        middleware = JWTGateWSGIMiddleware(whoami, issuer.settings(jwks_url=server.url + "/jwks"))
        token = issuer.mint(sub="t")
        statuses: list[int] = []

        def call() -> None:
            with client_for(middleware) as client:
                statuses.append(client.get("/", headers=bearer(token)).status_code)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        middleware.close()
        assert statuses == [200] * 8
        assert server.total_hits("/jwks") == 1


def test_rejections_are_logged_with_a_reason_and_never_the_token(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint(expires_in=-3600)
    with caplog.at_level(logging.DEBUG, logger="jwtgate"):
        wsgi_client(issuer).get("/", headers=bearer(token))
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("jwtgate")]
    assert any("reason=expired" in m for m in messages)
    assert not any(token in m or token.split(".")[1] in m for m in messages)


def test_bad_environment_raises_an_ordinary_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not SystemExit: gunicorn would restart a worker that exits that way forever.
    monkeypatch.delenv("JWTGATE_ISSUER", raising=False)
    monkeypatch.setenv("JWTGATE_AUDIENCE", "a")
    with pytest.raises(ValueError, match="JWTGATE_ISSUER"):
        JWTGateWSGIMiddleware(whoami)


def test_environ_user_without_the_middleware_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="JWTGateWSGIMiddleware"):
        environ_user({})


def flask_app(issuer: Issuer) -> Flask:
    app = Flask(__name__)
    app.wsgi_app = JWTGateWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, issuer.settings(), transport=issuer.transport()
    )

    @app.get("/me")
    @requires_scope()
    def me() -> dict[str, Any]:
        user = current_user()
        assert user is not None
        return {"sub": user.subject}

    @app.get("/items")
    @requires_scope("items:read", "items:list")
    def items() -> list[str]:
        return []

    @app.get("/anyone")
    def anyone() -> dict[str, Any]:
        return {"user": repr(current_user())}

    return app


def test_flask_requires_scope(issuer: Issuer) -> None:
    client = client_for(flask_app(issuer))
    anonymous = client.get("/me")
    assert anonymous.status_code == 401
    assert first_challenge(anonymous) == 'Bearer realm="api"'
    assert client.get("/me", headers=bearer(issuer.mint(sub="a"))).json() == {"sub": "a"}
    denied = client.get("/items", headers=bearer(issuer.mint(scopes=["items:read"])))
    assert denied.status_code == 403
    assert 'scope="items:read items:list"' in first_challenge(denied)
    assert denied.json()["scope"] == "items:read items:list"
    both = bearer(issuer.mint(scopes=["items:list", "items:read"]))
    assert client.get("/items", headers=both).status_code == 200
    assert client.get("/anyone").json() == {"user": "None"}


def test_flask_answers_are_the_middlewares_bytes(issuer: Issuer) -> None:
    from jwtgate import AuthenticationRequired

    response = client_for(flask_app(issuer)).get("/me")
    assert response.content == render_error(AuthenticationRequired(), "api")[2]


def test_flask_requires_scope_refuses_bad_scope_names() -> None:
    with pytest.raises(ValueError, match="scope token"):
        requires_scope("a b")


def test_app_client_and_override_work_for_flask(jwtgate_issuer: Issuer) -> None:
    other = Issuer("https://elsewhere.test", audience="x")
    client = app_client(flask_app(other), jwtgate_issuer)
    assert client.get("/me", headers=jwtgate_issuer.headers(sub="z")).json() == {"sub": "z"}
    assert client.get("/me", headers=other.headers()).status_code == 401


# A one-file Django project: the URLconf is this module's ``urlpatterns``.
def django_view(request: Any) -> Any:
    from django.http import JsonResponse

    from jwtgate.django import request_user

    user = request_user(request)
    return JsonResponse({"sub": user.subject if user else None})


urlpatterns: list[Any] = []


@pytest.fixture(scope="module")
def django_wsgi() -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], DEBUG=False)
    import django
    from django.core.wsgi import get_wsgi_application
    from django.urls import path

    from jwtgate.django import requires_scope as django_requires_scope

    django.setup()
    urlpatterns[:] = [
        path("me", django_requires_scope()(django_view)),
        path("items", django_requires_scope("items:read")(django_view)),
        path("anyone", django_view),
    ]
    return get_wsgi_application()


def test_django_requires_scope(django_wsgi: Any, issuer: Issuer) -> None:
    app = JWTGateWSGIMiddleware(django_wsgi, issuer.settings(), transport=issuer.transport())
    client = client_for(app)
    anonymous = client.get("/me")
    assert anonymous.status_code == 401
    assert first_challenge(anonymous) == 'Bearer realm="api"'
    assert anonymous.json()["error"] == "unauthorized"
    assert client.get("/me", headers=bearer(issuer.mint(sub="d"))).json() == {"sub": "d"}
    denied = client.get("/items", headers=bearer(issuer.mint(scopes=["other"])))
    assert denied.status_code == 403
    assert 'scope="items:read"' in first_challenge(denied)
    granted = client.get("/items", headers=bearer(issuer.mint(sub="r", scopes=["items:read"])))
    assert granted.json() == {"sub": "r"}
    assert client.get("/anyone").json() == {"sub": None}
