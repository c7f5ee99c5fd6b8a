"""Flask helpers: ``requires_scope`` for views and ``current_user()``.

    from flask import Flask
    from jwtgate import JWTGateWSGIMiddleware
    from jwtgate.flask import current_user, requires_scope

    app = Flask(__name__)
    app.wsgi_app = JWTGateWSGIMiddleware(app.wsgi_app)

    @app.get("/items")
    @requires_scope("items:read")
    def items(): ...

Flask is imported when a view runs, never by ``import jwtgate``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._web.starlette import TokenUser, validate_scope_tokens
from ._web.wsgi import check_environ, environ_user

__all__ = ["current_user", "requires_scope"]

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> TokenUser | None:
    """The verified user of the current Flask request, or None when it is anonymous."""
    from flask import request

    return environ_user(request.environ)


def requires_scope(*scopes: str) -> Callable[[F], F]:
    """Require a valid token carrying every scope in *scopes* on a Flask view.

    Anonymous callers get 401, callers lacking a scope 403 ``insufficient_scope``: the
    same bytes as the middleware's answers. ``requires_scope()`` only needs a valid token.
    """
    needed = validate_scope_tokens(scopes)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flask import Response, request

            denied = check_environ(request.environ, needed)
            if denied is not None:
                status, headers, body = denied
                return Response(body, status=status, headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
                ])  # fmt: skip
            return view(*args, **kwargs)

        wrapper.__jwtgate_scopes__ = needed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
