"""Django helpers: ``requires_scope``, ``requires_role``, ``requires_step_up``, ``requires``.

Django serves WSGI, so the token is verified by ``JWTGateWSGIMiddleware`` wrapping
the WSGI application (in ``wsgi.py``)::

    application = JWTGateWSGIMiddleware(get_wsgi_application())

and the identity reaches views through ``request.META`` (the WSGI environ); use
``request_user(request)``. The decorators answer exactly as the ASGI ones.
Django is imported when a view runs, never by ``import jwtgate``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._web.decorators import Decorators
from ._web.rfc6750 import ErrorResponse
from ._web.starlette import TokenUser
from ._web.wsgi import environ_user
from ._web.wsgi_views import ViewGuard

__all__ = ["request_user", "requires", "requires_role", "requires_scope", "requires_step_up"]

F = TypeVar("F", bound=Callable[..., Any])


def request_user(request: Any) -> TokenUser | None:
    """The verified user of a Django ``HttpRequest``, or None when it is anonymous."""
    return environ_user(request.META)


def _environ(args: tuple[Any, ...]) -> dict[str, Any]:
    environ: dict[str, Any] = args[0].META  # A Django view's first argument is the request.
    return environ


def _respond(denied: ErrorResponse) -> Any:
    status, headers, body = denied
    response = _response_class()(body, status=status)
    extra: list[tuple[str, str]] = []
    for key, value in headers:
        name, text = key.decode("latin-1"), value.decode("latin-1")
        if key == b"content-length":
            continue
        if name in response:  # A second WWW-Authenticate field (the DPoP challenge).
            extra.append((name, text))
        else:
            response[name] = text
    response.extra_fields = tuple(extra)
    return response


@functools.cache
def _response_class() -> Any:
    from django.http import HttpResponse  # type: ignore[import-untyped,unused-ignore]

    class ChallengeResponse(HttpResponse):  # type: ignore[misc,unused-ignore]
        """Django's header map holds one value per name; each challenge needs its own field.

        Django's WSGI handler sends ``items()``, so the extra fields are added there.
        """

        extra_fields: tuple[tuple[str, str], ...] = ()

        def items(self) -> list[tuple[str, str]]:
            return [*super().items(), *self.extra_fields]

    return ChallengeResponse


_decorators = Decorators(ViewGuard(_environ, _respond))
requires = _decorators.requires
requires_scope = _decorators.requires_scope
requires_role = _decorators.requires_role
requires_step_up = _decorators.requires_step_up
