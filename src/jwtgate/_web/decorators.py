"""The decorators every face offers, written once over the face's guard.

A guard turns a ``Requirement`` into that face's decorator: ``starlette.protect`` for
Starlette and FastAPI endpoints, a ``ViewGuard`` for Flask and Django views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from .authorization import ClaimCheck, Requirement

__all__ = ["Decorators", "Guard"]

F = TypeVar("F", bound=Callable[..., Any])


class Guard(Protocol):
    """Turns a ``Requirement`` into a decorator for one face's endpoints or views."""

    def __call__(self, requirement: Requirement) -> Callable[[F], F]: ...


class Decorators:
    """``requires``, ``requires_scope``, ``requires_role`` and ``requires_step_up`` of a face."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def requires(
        self,
        *,
        scopes: Iterable[str] = (),
        any_scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        any_roles: Iterable[str] = (),
        acr_values: Iterable[str] | str = (),
        max_age: float | None = None,
        check: ClaimCheck | None = None,
    ) -> Callable[[F], F]:
        """Require all of this on an endpoint (see ``Requirement``); the general form.

        *scopes*/*roles*: every one; *any_scopes*/*any_roles*: at least one; *acr_values*
        and *max_age*: RFC 9470 step-up; *check*: a custom ``ClaimCheck`` run last.
        """
        return self.guard(
            Requirement.of(
                scopes=scopes,
                any_scopes=any_scopes,
                roles=roles,
                any_roles=any_roles,
                acr_values=acr_values,
                max_age=max_age,
                check=check,
            )
        )

    def requires_scope(self, *scopes: str, any_of: Iterable[str] = ()) -> Callable[[F], F]:
        """Require every scope in *scopes* (and, with *any_of*, at least one of those).

        Works on Starlette functions and ``HTTPEndpoint`` methods, sync or async, HTTP or
        websocket, on FastAPI path operations (their signature is kept, so FastAPI's
        injection still works), and on Flask and Django views. Anonymous callers get 401;
        callers lacking a scope get 403 ``insufficient_scope`` naming a set of scopes that
        would be enough. ``requires_scope()`` only needs a valid token. Stacked jwtgate
        decorators join.
        """
        return self.guard(Requirement.of(scopes=scopes, any_scopes=any_of))

    def requires_role(self, *roles: str, any_of: Iterable[str] = ()) -> Callable[[F], F]:
        """Require every role in *roles* (and at least one of *any_of*): 403 without ``scope``."""
        return self.guard(Requirement.of(roles=roles, any_roles=any_of))

    def requires_step_up(
        self, acr_values: Iterable[str] | str = (), max_age: float | None = None
    ) -> Callable[[F], F]:
        """RFC 9470 step-up: ``acr`` one of *acr_values*, ``auth_time`` at most *max_age* s ago.

        Otherwise 401 ``insufficient_user_authentication`` with ``acr_values``/``max_age``,
        telling the client what to ask the authorization server for.
        """
        if not acr_values and max_age is None:
            raise ValueError("requires_step_up() needs acr_values, max_age or both")
        return self.guard(Requirement.of(acr_values=acr_values, max_age=max_age))
