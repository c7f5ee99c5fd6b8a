"""One set of protected routes (ROUTES) on every face, behind each face's real middleware."""

from typing import Annotated, Any

from fastapi import FastAPI, Security
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import (
    AccessDenied,
    InvalidToken,
    JWTGateMiddleware,
    JWTGateWSGIMiddleware,
    Settings,
    TokenUser,
    VerifiedToken,
    requires,
)
from jwtgate import flask as jflask
from jwtgate.fastapi import JWTGateAuth, install
from jwtgate.testing import Issuer


def dept_check(token: VerifiedToken) -> None:
    """The custom hook of the tables: 401 for a blocked token, 403 outside sales."""
    if token.claims.get("blocked") is True:
        raise InvalidToken("The token is blocked.")
    if token.claims.get("dept") != "sales":
        raise AccessDenied("Only the sales department may do this.")


#: path -> the requirement's keywords, the same on every face.
ROUTES: dict[str, dict[str, Any]] = {
    "/any": {"any_scopes": ["reports:read", "admin:all"]},
    "/role": {"roles": ["admin"]},
    "/anyrole": {"any_roles": ["admin", "auditor"]},
    "/stepup": {"acr_values": ["mfa"], "max_age": 300},
    "/acr": {"acr_values": ["mfa", "hwk"]},
    "/fresh": {"max_age": 60},
    "/combo": {"scopes": ["items:read"], "roles": ["admin"]},
    "/check": {"check": dept_check},
    "/plain": {},
}


def starlette_app(settings: Settings, issuer: Issuer) -> Any:
    async def ok(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "roles": sorted(request.user.roles)})

    routes = [Route(path, requires(**kw)(ok)) for path, kw in ROUTES.items()]
    app = Starlette(routes=routes)
    return JWTGateMiddleware(app, settings, transport=issuer.transport())


def fastapi_app(settings: Settings, issuer: Issuer) -> Any:
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=settings, transport=issuer.transport())
    install(app)
    auth = JWTGateAuth()
    for path, kw in ROUTES.items():
        dependency = auth.requires(**kw)

        async def ok(user: Annotated[TokenUser, Security(dependency)]) -> dict[str, Any]:
            return {"ok": True, "roles": sorted(user.roles)}

        app.get(path)(ok)
    return app


def fastapi_decorated_app(settings: Settings, issuer: Issuer) -> Any:
    app = FastAPI()
    app.add_middleware(JWTGateMiddleware, settings=settings, transport=issuer.transport())
    install(app)
    for path, kw in ROUTES.items():

        async def ok(request: Request) -> dict[str, Any]:
            return {"ok": True, "roles": sorted(request.user.roles)}

        app.get(path)(requires(**kw)(ok))
    return app


def flask_app(settings: Settings, issuer: Issuer) -> Any:
    app = Flask(__name__)
    for path, kw in ROUTES.items():

        def ok() -> dict[str, Any]:
            user = jflask.current_user()
            assert user is not None
            return {"ok": True, "roles": sorted(user.roles)}

        app.get(path, endpoint=path)(jflask.requires(**kw)(ok))
    app.wsgi_app = JWTGateWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, settings, transport=issuer.transport()
    )
    return app


def django_app(settings: Settings, issuer: Issuer) -> Any:
    from django.conf import settings as django_settings

    if not django_settings.configured:
        # Django is configured once per process: with the settings tests/web/test_wsgi.py
        # needs too (its URLconf is its own module); these views are called directly.
        django_settings.configure(
            ROOT_URLCONF="test_wsgi", ALLOWED_HOSTS=["testserver"], DEBUG=False
        )
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import JsonResponse

    from jwtgate import django as jdjango

    def ok(request: Any) -> Any:
        user = jdjango.request_user(request)
        return JsonResponse({"ok": True, "roles": sorted(user.roles if user else ())})

    views = {path: jdjango.requires(**kw)(ok) for path, kw in ROUTES.items()}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        view = views.get(environ["PATH_INFO"])
        if view is None:
            start_response("404 Not Found", [])
            return [b""]
        response = view(WSGIRequest(environ))
        start_response(f"{response.status_code} X", list(response.items()))
        return [response.content]

    return JWTGateWSGIMiddleware(wsgi, settings, transport=issuer.transport())


FACES = {
    "starlette": starlette_app,
    "fastapi-security": fastapi_app,
    "fastapi-decorator": fastapi_decorated_app,
    "flask": flask_app,
    "django": django_app,
}
