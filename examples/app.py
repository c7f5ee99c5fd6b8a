"""The jwtgate example: a Starlette API behind bearer tokens, configured from JWTGATE_*.

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_AUDIENCE=my-api \
        .venv/bin/python -m uvicorn examples.app:app
"""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings, requires_role, requires_scope, requires_step_up

# Read the settings at import so that a bad JWTGATE_* value stops the server at once.
settings = Settings.from_env()


async def public(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Anyone can read this."})


@requires_scope()
async def me(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse(
        {"sub": user.subject, "scopes": sorted(request.auth.scopes), "roles": sorted(user.roles)}
    )


@requires_scope("items:read")
async def list_items(request: Request) -> JSONResponse:
    return JSONResponse({"items": ["apple", "pear"]})


@requires_scope("items:write")
async def create_item(request: Request) -> JSONResponse:
    return JSONResponse({"created": True})


@requires_scope(any_of=["reports:read", "admin:all"])
async def reports(request: Request) -> JSONResponse:
    return JSONResponse({"reports": ["q1", "q2"]})


@requires_role("admin")
async def admin(request: Request) -> JSONResponse:
    return JSONResponse({"admin": True})


# RFC 9470 step-up: a recent multi-factor sign-in, else 401 insufficient_user_authentication.
@requires_step_up(acr_values="mfa", max_age=300)
async def transfer(request: Request) -> JSONResponse:
    return JSONResponse({"transferred": True})


app = Starlette(
    routes=[
        Route("/public", public),
        Route("/me", me),
        Route("/items", list_items, methods=["GET"]),
        Route("/items", create_item, methods=["POST"]),
        Route("/reports", reports),
        Route("/admin", admin),
        Route("/transfers", transfer, methods=["POST"]),
    ],
    middleware=[Middleware(JWTGateMiddleware, settings=settings)],
)
