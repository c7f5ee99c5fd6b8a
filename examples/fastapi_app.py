"""The jwtgate example for FastAPI: the same routes as examples/app.py.

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_AUDIENCE=my-api \
        .venv/bin/python -m uvicorn examples.fastapi_app:app
"""

from typing import Any

from fastapi import FastAPI, Request

from jwtgate import JWTGateMiddleware, Settings, requires_scope

# Read the settings at import so that a bad JWTGATE_* value stops the server at once.
settings = Settings.from_env()

app = FastAPI(title="jwtgate example")
app.add_middleware(JWTGateMiddleware, settings=settings)


@app.get("/public")
async def public() -> dict[str, str]:
    return {"message": "Anyone can read this."}


@app.get("/me")
@requires_scope()
async def me(request: Request) -> dict[str, Any]:
    return {"sub": request.user.subject, "scopes": sorted(request.auth.scopes)}


@app.get("/items")
@requires_scope("items:read")
async def list_items() -> dict[str, list[str]]:
    return {"items": ["apple", "pear"]}


@app.post("/items")
@requires_scope("items:write")
def create_item() -> dict[str, bool]:
    return {"created": True}
