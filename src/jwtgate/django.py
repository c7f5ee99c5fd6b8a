"""Django helpers: ``requires_scope`` for views and ``request_user(request)``.

Django serves WSGI, so the token is verified by ``JWTGateWSGIMiddleware`` wrapping
the WSGI application (in ``wsgi.py``)::

    application = JWTGateWSGIMiddleware(get_wsgi_application())

and the identity reaches views through ``request.META`` (the WSGI environ).
Django is imported when a view runs, never by ``import jwtgate``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._web.starlette import TokenUser, validate_scope_tokens
from ._web.wsgi import check_environ, environ_user

__all__ = ["request_user", "requires_scope"]

F = TypeVar("F", bound=Callable[..., Any])


def request_user(request: Any) -> TokenUser | None:
    """The verified user of a Django ``HttpRequest``, or None when it is anonymous."""
    return environ_user(request.META)


def requires_scope(*scopes: str) -> Callable[[F], F]:
    """Require a valid token carrying every scope in *scopes* on a Django view function.

    Anonymous callers get 401, callers lacking a scope 403 ``insufficient_scope``: the
    same bytes as the middleware's answers.
    """
    needed = validate_scope_tokens(scopes)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            denied = check_environ(request.META, needed)
            if denied is not None:
                from django.http import HttpResponse  # type: ignore[import-untyped,unused-ignore]

                status, headers, body = denied
                response = HttpResponse(body, status=status)
                for key, value in headers:
                    if key != b"content-length":
                        response[key.decode("latin-1")] = value.decode("latin-1")
                return response
            return view(request, *args, **kwargs)

        wrapper.__jwtgate_scopes__ = needed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
