"""The Starlette/FastAPI edge: the user object and ``requires_scope``."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.authentication import BaseUser
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket

from .._exceptions import AuthenticationRequired, AuthError, InsufficientScope
from .._verify.verifier import VerifiedToken
from .rfc6750 import Challenges, render_error

__all__ = ["TokenUser", "requires_scope"]

F = TypeVar("F", bound=Callable[..., Any])

#: Where the middleware leaves its realm for the decorators (a namespaced scope key).
#: Where the middleware leaves its ``Challenges`` for the decorators, in the ASGI scope.
CHALLENGES_KEY = "jwtgate.challenges"
_DEFAULT = Challenges()
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_HIDDEN = "_jwtgate_connection"


class TokenUser(BaseUser):
    """``request.user`` for a request with a verified token; the claims are on ``.claims``."""

    __slots__ = ("token",)

    def __init__(self, token: VerifiedToken) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"TokenUser(subject={self.subject!r}, scopes={sorted(self.scopes)!r})"

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


def error_response(exc: AuthError, challenges: Challenges | str) -> Response:
    """A Starlette ``Response`` carrying the RFC 6750 answer for *exc*."""
    status, headers, body = render_error(exc, challenges)
    response = Response(body, status_code=status)
    response.raw_headers = list(headers)
    return response


def check_scopes(conn: HTTPConnection, needed: tuple[str, ...]) -> AuthError | None:
    """The error to answer when *conn* lacks *needed*, or None when it may proceed."""
    if "user" not in conn.scope:
        raise RuntimeError(
            "requires_scope() found no user on the request: add JWTGateMiddleware "
            "to the application (app.add_middleware(JWTGateMiddleware))"
        )
    user = conn.scope["user"]
    if not isinstance(user, TokenUser):
        return AuthenticationRequired(scopes=needed)  # Named with resource metadata (MCP).
    if not user.scopes.issuperset(needed):
        return InsufficientScope(needed)
    return None


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


def validate_scope_tokens(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """*scopes*, once each is checked to be an RFC 6749 scope token; else ``ValueError``."""
    for scope in scopes:
        if not isinstance(scope, str) or _SCOPE_TOKEN.fullmatch(scope) is None:
            raise ValueError(f"{scope!r} is not a valid scope token (RFC 6749 §3.3)")
    return tuple(scopes)


def requires_scope(*scopes: str) -> Callable[[F], F]:
    """Require every scope in *scopes* on an endpoint.

    Works on Starlette functions and ``HTTPEndpoint`` methods, sync or async, HTTP or
    websocket, and on FastAPI path operations (their signature is kept, so FastAPI's
    injection still works). Anonymous callers get 401; callers lacking a scope get
    403 ``insufficient_scope`` naming the scopes needed.
    """
    needed = validate_scope_tokens(scopes)

    def decorator(func: F) -> F:
        signature = inspect.signature(func)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                conn = _find_connection(args, kwargs)
                error = check_scopes(conn, needed)
                if error is not None:
                    return await _deny(conn, error)
                return await func(*args, **kwargs)

            wrapper: Callable[..., Any] = async_wrapper
        else:

            @functools.wraps(func)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                conn = _find_connection(args, kwargs)
                error = check_scopes(conn, needed)
                if error is not None:
                    if isinstance(conn, WebSocket):
                        raise TypeError("websocket endpoints must be async")
                    return error_response(error, conn.scope.get(CHALLENGES_KEY, _DEFAULT))
                return func(*args, **kwargs)

            wrapper = sync_wrapper
        wrapper.__signature__ = _with_connection(signature)  # type: ignore[attr-defined]
        wrapper.__jwtgate_scopes__ = needed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


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
