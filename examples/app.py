"""The jwtgate example: a Starlette API behind bearer tokens, configured from JWTGATE_*.

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_AUDIENCE=my-api \
        .venv/bin/python -m uvicorn examples.app:app
"""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings, requires_scope

# Read the settings at import so that a bad JWTGATE_* value stops the server at once.
settings = Settings.from_env()


async def public(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Anyone can read this."})


@requires_scope()
async def me(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse({"sub": user.subject, "scopes": sorted(request.auth.scopes)})


@requires_scope("items:read")
async def list_items(request: Request) -> JSONResponse:
    return JSONResponse({"items": ["apple", "pear"]})


@requires_scope("items:write")
async def create_item(request: Request) -> JSONResponse:
    return JSONResponse({"created": True})


app = Starlette(
    routes=[
        Route("/public", public),
        Route("/me", me),
        Route("/items", list_items, methods=["GET"]),
        Route("/items", create_item, methods=["POST"]),
    ],
    middleware=[Middleware(JWTGateMiddleware, settings=settings)],
)
