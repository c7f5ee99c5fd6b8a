"""``jwtgate demo`` and FastAPI's Swagger UI: log in through the development issuer.

Two adjustments to a FastAPI app served by the demo, both for development only:

* Swagger UI's OAuth settings default to the demo client with PKCE (an app that sets
  ``swagger_ui_init_oauth`` itself keeps its own);
* when the ``swagger-ui-bundle-v2`` package is installed, ``/docs`` loads Swagger UI
  from this process instead of a CDN (works offline; the tests have no internet).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEMO_CLIENT_ID", "prepare_swagger"]

DEMO_CLIENT_ID = "jwtgate-demo"
_ASSETS = "/_jwtgate/swagger-ui"


def prepare_swagger(app: Any) -> str | None:
    """Adjust a FastAPI *app*'s Swagger UI for the demo; returns its docs path, or None."""
    docs_url = getattr(app, "docs_url", None)
    if not docs_url or not getattr(app, "openapi_url", None) or not hasattr(app, "router"):
        return None
    if getattr(app, "swagger_ui_init_oauth", None) is None:
        app.swagger_ui_init_oauth = {
            "clientId": DEMO_CLIENT_ID,
            "usePkceWithAuthorizationCodeGrant": True,
        }
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return str(docs_url)  # FastAPI's default: the assets come from a CDN.
    _serve_local_assets(app, docs_url, str(swagger_ui_path))
    return str(docs_url)


def _serve_local_assets(app: Any, docs_url: str, folder: str) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        redirect = app.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    routes = app.router.routes
    for index, route in enumerate(routes):
        if getattr(route, "path", None) == docs_url:
            routes[index] = Route(docs_url, docs, include_in_schema=False)
    routes.insert(0, Mount(_ASSETS, StaticFiles(directory=folder), name="jwtgate-swagger-ui"))
