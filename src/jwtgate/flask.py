"""Flask helpers: ``requires_scope``, ``requires_role``, ``requires_step_up``, ``requires``.

    from flask import Flask
    from jwtgate import JWTGateWSGIMiddleware
    from jwtgate.flask import current_user, requires_role, requires_scope

    app = Flask(__name__)
    app.wsgi_app = JWTGateWSGIMiddleware(app.wsgi_app)

    @app.get("/items")
    @requires_scope("items:read")
    def items(): ...

The decorators answer exactly as the ASGI ones (see ``jwtgate.requires``).
Flask is imported when a view runs, never by ``import jwtgate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ._web.authorization import ClaimCheck, Requirement
from ._web.rfc6750 import ErrorResponse
from ._web.starlette import TokenUser
from ._web.wsgi import environ_user
from ._web.wsgi_views import ViewGuard, requirement_for

__all__ = ["current_user", "requires", "requires_role", "requires_scope", "requires_step_up"]

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> TokenUser | None:
    """The verified user of the current Flask request, or None when it is anonymous."""
    from flask import request

    return environ_user(request.environ)


def _environ(args: tuple[Any, ...]) -> dict[str, Any]:
    from flask import request

    environ: dict[str, Any] = request.environ
    return environ


def _respond(denied: ErrorResponse) -> Any:
    from flask import Response

    status, headers, body = denied
    return Response(
        body,
        status=status,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
    )


_guard = ViewGuard(_environ, _respond)


def requires(
    *,
    scopes: Iterable[str] = (),
    any_scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    any_roles: Iterable[str] = (),
    acr_values: Iterable[str] | str = (),
    max_age: float | None = None,
    check: ClaimCheck | None = None,
) -> Callable[[F], F]:
    """The general form on a Flask view: see ``jwtgate.requires``."""
    return _guard(
        requirement_for(
            scopes=scopes,
            any_scopes=any_scopes,
            roles=roles,
            any_roles=any_roles,
            acr_values=acr_values,
            max_age=max_age,
            check=check,
        )
    )


def requires_scope(*scopes: str, any_of: Iterable[str] = ()) -> Callable[[F], F]:
    """Require a valid token with every scope in *scopes* (and one of *any_of*) on a Flask view.

    Anonymous callers get 401, callers lacking a scope 403 ``insufficient_scope``: the
    same bytes as the middleware's answers. ``requires_scope()`` only needs a valid token.
    """
    return _guard(Requirement.of(scopes=scopes, any_scopes=any_of))


def requires_role(*roles: str, any_of: Iterable[str] = ()) -> Callable[[F], F]:
    """Require every role in *roles* (and one of *any_of*) on a Flask view: else 403."""
    return _guard(Requirement.of(roles=roles, any_roles=any_of))


def requires_step_up(
    acr_values: Iterable[str] | str = (), max_age: float | None = None
) -> Callable[[F], F]:
    """RFC 9470 step-up on a Flask view: else 401 ``insufficient_user_authentication``."""
    if not acr_values and max_age is None:
        raise ValueError("requires_step_up() needs acr_values, max_age or both")
    return _guard(Requirement.of(acr_values=acr_values, max_age=max_age))
