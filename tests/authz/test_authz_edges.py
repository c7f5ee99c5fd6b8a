"""Edges of the authorization faces: Flask and Django shortcuts, stacking, reprs, OpenAPI notes."""

from typing import Any

import pytest
from flask import Flask

from jwtgate import JWTGateWSGIMiddleware, Requirement, Settings, TokenUser, VerifiedToken
from jwtgate import django as jdjango
from jwtgate import flask as jflask
from jwtgate._config.authz_fields import FrozenRules, normalize_claim_rules
from jwtgate._web.openapi import describe_operation
from jwtgate.fastapi import JWTGateAuth
from jwtgate.testing import Issuer, app_client

from helpers import bearer


def _flask(issuer: Issuer) -> Any:
    app = Flask(__name__)

    @app.get("/admin")
    @jflask.requires_role("admin")
    def admin() -> str:
        return "admin"

    @app.post("/move")
    @jflask.requires_scope("move")
    @jflask.requires_step_up(acr_values="mfa")
    def move() -> str:
        return "moved"

    app.wsgi_app = JWTGateWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, issuer.settings(), transport=issuer.transport()
    )
    return app


@pytest.mark.parametrize(
    ("method", "path", "scopes", "claims", "status"),
    [
        pytest.param("GET", "/admin", [], {"roles": ["admin"]}, 200, id="role"),
        pytest.param("GET", "/admin", [], {}, 403, id="no-role"),
        pytest.param("POST", "/move", ["move"], {"acr": "mfa"}, 200, id="stacked-met"),
        pytest.param("POST", "/move", ["move"], {"acr": "pwd"}, 401, id="stacked-step-up"),
        pytest.param("POST", "/move", [], {"acr": "mfa"}, 403, id="stacked-scope"),
    ],
)
def test_flask_shortcuts(
    issuer: Issuer, method: str, path: str, scopes: list[str], claims: Any, status: int
) -> None:
    client = app_client(_flask(issuer))
    token = issuer.mint(scopes=scopes, claims=claims)
    assert client.request(method, path, headers=bearer(token)).status_code == status


def test_shortcuts_refuse_an_empty_step_up() -> None:
    for module in (jflask, jdjango):
        with pytest.raises(ValueError, match="needs acr_values"):
            module.requires_step_up()


def test_django_shortcuts_build_the_same_requirements() -> None:
    def view(request: Any) -> None: ...

    role = jdjango.requires_role("admin", any_of=["a", "b"])(view)
    step = jdjango.requires_step_up(acr_values="mfa", max_age=30)(jdjango.requires_scope("s")(view))
    assert role.__jwtgate_requirement__ == Requirement(roles=("admin",), any_roles=(("a", "b"),))  # type: ignore[attr-defined]
    assert step.__jwtgate_requirement__ == Requirement(  # type: ignore[attr-defined]
        scopes=("s",), acr_values=("mfa",), max_age=30
    )


def test_frozen_rules_and_reprs(issuer: Issuer) -> None:
    rules = normalize_claim_rules({"a": [1, "x"]})
    assert isinstance(rules, FrozenRules)
    assert len(rules) == 1
    assert repr(rules) == "{'a': (1, 'x')}"
    assert len(normalize_claim_rules(None)) == 0
    with pytest.raises(ValueError, match="more than 1000 values"):
        Settings(issuer="https://i.test", audience=["a"], claim_rules={"a": list(range(1001))})
    token = VerifiedToken({"sub": "s"}, {}, frozenset({"x"}), frozenset({"r"}))
    assert repr(TokenUser(token)) == "TokenUser(subject='s', scopes=['x'], roles=['r'])"
    assert token.has_roles("r")
    assert not token.has_roles("r", "q")
    requirement = JWTGateAuth().requires(roles=["admin"])
    assert "roles=('admin',)" in repr(requirement)


def test_openapi_notes_for_any_roles_and_checks() -> None:
    operation: dict[str, Any] = {"responses": {}}

    def check(token: VerifiedToken) -> None: ...

    describe_operation(
        operation, Requirement.of(any_roles=["a", "b"], max_age=5, check=check), None
    )
    assert operation["description"] == (
        "**Requires** one role of `a`, `b`; step-up (RFC 9470): authenticated at most 5 s ago; "
        "a custom check on the token's claims."
    )
    assert "security" not in operation
    assert {"401", "403"} <= set(operation["responses"])
