"""The jwtgate example for Flask (WSGI): the same routes as examples/app.py.

    JWTGATE_ISSUER=https://issuer.example.com/ JWTGATE_AUDIENCE=my-api \
        .venv/bin/gunicorn examples.flask_app:app
"""

from typing import Any

from flask import Flask

from jwtgate import JWTGateWSGIMiddleware, Settings
from jwtgate.flask import current_user, requires_role, requires_scope, requires_step_up

# Read the settings at import: a bad JWTGATE_* value raises ConfigurationError (an
# ordinary exception, not SystemExit), so gunicorn's worker fails to boot and the
# server exits non-zero with the variable's name on stderr.
settings = Settings.from_env()

app = Flask(__name__)
app.wsgi_app = JWTGateWSGIMiddleware(app.wsgi_app, settings)  # type: ignore[method-assign]


@app.get("/public")
def public() -> dict[str, str]:
    return {"message": "Anyone can read this."}


@app.get("/me")
@requires_scope()
def me() -> dict[str, Any]:
    user = current_user()
    assert user is not None  # requires_scope() let only verified users through
    return {"sub": user.subject, "scopes": sorted(user.scopes), "roles": sorted(user.roles)}


@app.get("/items")
@requires_scope("items:read")
def list_items() -> dict[str, list[str]]:
    return {"items": ["apple", "pear"]}


@app.post("/items")
@requires_scope("items:write")
def create_item() -> dict[str, bool]:
    return {"created": True}


@app.get("/reports")
@requires_scope(any_of=["reports:read", "admin:all"])
def reports() -> dict[str, list[str]]:
    return {"reports": ["q1", "q2"]}


@app.get("/admin")
@requires_role("admin")
def admin() -> dict[str, bool]:
    return {"admin": True}


# RFC 9470 step-up: a recent multi-factor sign-in, else 401 insufficient_user_authentication.
@app.post("/transfers")
@requires_step_up(acr_values="mfa", max_age=300)
def transfer() -> dict[str, bool]:
    return {"transferred": True}
