"""The jwtgate example for FastAPI: the same routes as examples/app.py.

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_AUDIENCE=my-api \
        .venv/bin/python -m uvicorn examples.fastapi_app:app

Open /docs: the Authorize button reads the issuer's OpenID Connect discovery
document, each route's padlock lists the scopes it needs (any-of as alternatives),
and roles and step-up are in the operation's description.
"""

from typing import Annotated, Any

from fastapi import FastAPI, Security

from jwtgate import JWTGateMiddleware, Settings, TokenUser
from jwtgate.fastapi import JWTGateAuth, install

# Read the settings at import so that a bad JWTGATE_* value stops the server at once.
settings = Settings.from_env()

app = FastAPI(title="jwtgate example")
app.add_middleware(JWTGateMiddleware, settings=settings)  # verifies every bearer token
install(app)  # rejections answer RFC 6750 JSON, byte for byte as the middleware does
# Reads the user the middleware verified; documents the OpenID Connect scheme.
auth = JWTGateAuth(openid_connect_url=settings.discovery_urls[0])


@app.get("/public")
async def public() -> dict[str, str]:
    return {"message": "Anyone can read this."}


@app.get("/me")
async def me(user: Annotated[TokenUser, Security(auth)]) -> dict[str, Any]:
    return {"sub": user.subject, "scopes": sorted(user.scopes), "roles": sorted(user.roles)}


@app.get("/items")
async def list_items(
    user: Annotated[TokenUser, Security(auth, scopes=["items:read"])],
) -> dict[str, list[str]]:
    return {"items": ["apple", "pear"]}


@app.post("/items")
def create_item(
    user: Annotated[TokenUser, Security(auth, scopes=["items:write"])],
) -> dict[str, bool]:
    return {"created": True}


@app.get("/reports")
async def reports(
    user: Annotated[TokenUser, Security(auth.requires(any_scopes=["reports:read", "admin:all"]))],
) -> dict[str, list[str]]:
    return {"reports": ["q1", "q2"]}


@app.get("/admin")
async def admin(
    user: Annotated[TokenUser, Security(auth.requires(roles=["admin"]))],
) -> dict[str, bool]:
    return {"admin": True}


# RFC 9470 step-up: a recent multi-factor sign-in, else 401 insufficient_user_authentication.
@app.post("/transfers")
async def transfer(
    user: Annotated[TokenUser, Security(auth.requires(acr_values="mfa", max_age=300))],
) -> dict[str, bool]:
    return {"transferred": True}
