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
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ._web.authorization import ClaimCheck, Requirement
from ._web.rfc6750 import ErrorResponse
from ._web.starlette import TokenUser
from ._web.wsgi import environ_user
from ._web.wsgi_views import ViewGuard, requirement_for

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
    """The general form on a Django view: see ``jwtgate.requires``."""
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
    """Require a valid token with every scope in *scopes* (and one of *any_of*) on a Django view.

    Anonymous callers get 401, callers lacking a scope 403 ``insufficient_scope``: the
    same bytes as the middleware's answers.
    """
    return _guard(Requirement.of(scopes=scopes, any_scopes=any_of))


def requires_role(*roles: str, any_of: Iterable[str] = ()) -> Callable[[F], F]:
    """Require every role in *roles* (and one of *any_of*) on a Django view: else 403."""
    return _guard(Requirement.of(roles=roles, any_roles=any_of))


def requires_step_up(
    acr_values: Iterable[str] | str = (), max_age: float | None = None
) -> Callable[[F], F]:
    """RFC 9470 step-up on a Django view: else 401 ``insufficient_user_authentication``."""
    if not acr_values and max_age is None:
        raise ValueError("requires_step_up() needs acr_values, max_age or both")
    return _guard(Requirement.of(acr_values=acr_values, max_age=max_age))
