"""The Starlette/FastAPI edge: the user object and the decorators (``requires_scope`` ...)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.authentication import BaseUser
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from .._exceptions import AuthError
from .._verify.verifier import VerifiedToken
from .authorization import Requirement, validate_scope_tokens
from .decorators import Decorators
from .rfc6750 import Challenges, render_error

__all__ = [
    "REQUIREMENT_ATTR",
    "TokenUser",
    "protect",
    "requirement_of",
    "requires",
    "requires_role",
    "requires_scope",
    "requires_step_up",
    "validate_scope_tokens",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Where the middleware leaves its ``Challenges`` for the decorators, in the ASGI scope.
CHALLENGES_KEY = "jwtgate.challenges"
_DEFAULT = Challenges()
_HIDDEN = "_jwtgate_connection"
#: Where the decorators leave an endpoint's ``Requirement`` (read by OpenAPI and FastAPI).
REQUIREMENT_ATTR = "__jwtgate_requirement__"
_INNER = "__jwtgate_inner__"


class TokenUser(BaseUser):
    """``request.user`` for a request with a verified token; the claims are on ``.claims``."""

    __slots__ = ("token",)

    def __init__(self, token: VerifiedToken) -> None:
        self.token = token

    def __repr__(self) -> str:
        return (
            f"TokenUser(subject={self.subject!r}, scopes={sorted(self.scopes)!r}, "
            f"roles={sorted(self.roles)!r})"
        )

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.subject or self.token.client_id or ""

    @property
    def identity(self) -> str:
        return self.subject or ""

    @property
    def subject(self) -> str | None:
        """The token's ``sub``, or None when it has none."""
        return self.token.subject

    @property
    def claims(self) -> Mapping[str, Any]:
        """Every verified claim of the token (read-only)."""
        return self.token.claims

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes the token grants."""
        return self.token.scopes

    @property
    def roles(self) -> frozenset[str]:
        """The roles the token grants (``Settings.role_claims``)."""
        return self.token.roles


def error_response(exc: AuthError, challenges: Challenges | str) -> Response:
    """A Starlette ``Response`` carrying the RFC 6750 answer for *exc*."""
    status, headers, body = render_error(exc, challenges)
    response = Response(body, status_code=status)
    response.raw_headers = list(headers)
    return response


def check_requirement(conn: HTTPConnection, requirement: Requirement) -> AuthError | None:
    """The error to answer when *conn* does not meet *requirement*, or None to proceed."""
    if "user" not in conn.scope:
        raise RuntimeError(
            "requires_scope() found no user on the request: add JWTGateMiddleware "
            "to the application (app.add_middleware(JWTGateMiddleware))"
        )
    user = conn.scope["user"]
    return requirement.evaluate(user.token if isinstance(user, TokenUser) else None)


async def _deny(conn: HTTPConnection, exc: AuthError) -> Response | None:
    response = error_response(exc, conn.scope.get(CHALLENGES_KEY, _DEFAULT))
    if isinstance(conn, WebSocket):
        if "websocket.http.response" in conn.scope.get("extensions", {}):
            await conn.send_denial_response(response)
        else:
            await conn.close(code=1008)  # Policy violation.
        return None
    return response


def _find_connection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HTTPConnection:
    conn: HTTPConnection | None = kwargs.pop(_HIDDEN, None)
    if conn is None:
        for value in (*args, *kwargs.values()):
            if isinstance(value, HTTPConnection):
                return value
        raise RuntimeError("requires_scope() found no request or websocket among the arguments")
    return conn


def requirement_of(endpoint: Any) -> Requirement | None:
    """The ``Requirement`` a jwtgate decorator put on *endpoint*, or None."""
    found = getattr(endpoint, REQUIREMENT_ATTR, None)
    return found if isinstance(found, Requirement) else None


def protect(requirement: Requirement) -> Callable[[F], F]:
    """A decorator enforcing *requirement* (see ``requires``); stacked ones are joined."""

    def decorator(func: F) -> F:
        joined = requirement
        inner = getattr(func, _INNER, None)
        if inner is not None:
            # Another jwtgate decorator below: wrap what it wrapped, with both requirements.
            joined = requirement + getattr(func, REQUIREMENT_ATTR)
            func = inner
        signature = inspect.signature(func)
        # The common case, scopes only, met by a token: one set comparison (issue 17).
        needed = joined.all_scopes
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if needed is not None and not kwargs and args and type(args[0]) is Request:
                    user = args[0].scope.get("user")
                    if type(user) is TokenUser and needed <= user.token.scopes:
                        return await func(*args)
                conn = _find_connection(args, kwargs)
                error = check_requirement(conn, joined)
                if error is not None:
                    return await _deny(conn, error)
                return await func(*args, **kwargs)

            wrapper: Callable[..., Any] = async_wrapper
        else:

            @functools.wraps(func)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                conn = _find_connection(args, kwargs)
                error = check_requirement(conn, joined)
                if error is not None:
                    if isinstance(conn, WebSocket):
                        raise TypeError("websocket endpoints must be async")
                    return error_response(error, conn.scope.get(CHALLENGES_KEY, _DEFAULT))
                return func(*args, **kwargs)

            wrapper = sync_wrapper
        wrapper.__signature__ = _with_connection(signature)  # type: ignore[attr-defined]
        wrapper.__jwtgate_scopes__ = joined.scopes  # type: ignore[attr-defined]
        setattr(wrapper, REQUIREMENT_ATTR, joined)
        setattr(wrapper, _INNER, func)
        return wrapper  # type: ignore[return-value]

    return decorator


_decorators = Decorators(protect)
requires = _decorators.requires
requires_scope = _decorators.requires_scope
requires_role = _decorators.requires_role
requires_step_up = _decorators.requires_step_up


def _with_connection(signature: inspect.Signature) -> inspect.Signature:
    """Add a hidden ``HTTPConnection`` parameter for FastAPI to fill, unless one exists."""
    params = list(signature.parameters.values())
    for param in params:
        annotation = param.annotation
        if isinstance(annotation, type) and issubclass(annotation, HTTPConnection):
            return signature
    hidden = inspect.Parameter(_HIDDEN, inspect.Parameter.KEYWORD_ONLY, annotation=HTTPConnection)
    # Keyword-only parameters must precede **kwargs.
    position = next(
        (i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params)
    )
    params.insert(position, hidden)
    return signature.replace(parameters=params)
