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

from collections.abc import Callable
from typing import Any, TypeVar

from ._web.decorators import Decorators
from ._web.rfc6750 import ErrorResponse
from ._web.starlette import TokenUser
from ._web.wsgi import environ_user
from ._web.wsgi_views import ViewGuard

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


_decorators = Decorators(ViewGuard(_environ, _respond))
requires = _decorators.requires
requires_scope = _decorators.requires_scope
requires_role = _decorators.requires_role
requires_step_up = _decorators.requires_step_up
