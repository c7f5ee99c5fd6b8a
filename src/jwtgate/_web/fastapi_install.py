"""The FastAPI side of ``jwtgate.fastapi``: rejections, ``install(app)`` and OpenAPI.

``Guard`` is the base of jwtgate's FastAPI dependencies (``JWTGateAuth`` and
``JWTGateRequirement``); ``install`` finds them in each route's dependencies to
answer authorization before body validation and to document the requirements.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.security.base import SecurityBase
from starlette.authentication import BaseUser
from starlette.responses import Response

from .._exceptions import AuthError
from .authorization import AUTHENTICATED, Requirement, validate_scope_tokens
from .openapi import describe_operation
from .rfc6750 import Challenges, log_rejection, render_error
from .starlette import CHALLENGES_KEY, TokenUser, requirement_of

__all__ = ["Guard", "TokenRejected", "install", "token_rejected_handler"]

logger = logging.getLogger("jwtgate.fastapi")


class Guard(SecurityBase):
    """Base of jwtgate's FastAPI security dependencies.

    *requirement*: what the dependency itself requires (besides ``Security`` scopes);
    *optional*: an anonymous request gets None rather than a 401.
    """

    requirement: Requirement = AUTHENTICATED
    optional: bool = False

    async def authorize(
        self, request: Request, requirement: Requirement, *, optional: bool = False
    ) -> TokenUser | None:
        """The request's user once it meets *requirement*; raises ``TokenRejected``."""
        raise NotImplementedError


class TokenRejected(HTTPException):
    """An ``HTTPException`` carrying the ``AuthError`` behind it and its rendered answer."""

    def __init__(self, error: AuthError, challenges: Challenges | str) -> None:
        self.error = error
        self.status, self.raw_headers, self.body = render_error(error, challenges)
        headers: dict[str, str] = {}
        for k, v in self.raw_headers:
            # One field per name here: the first challenge (the request's scheme) is kept;
            # ``install(app)`` writes every field.
            if k in (b"www-authenticate", b"retry-after"):
                headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        super().__init__(self.status, detail=error.description, headers=headers)


async def token_rejected_handler(request: Request, exc: Exception) -> Response:
    """The exception handler writing a ``TokenRejected`` as the middleware would."""
    assert isinstance(exc, TokenRejected)
    response = Response(exc.body, status_code=exc.status)
    response.raw_headers = list(exc.raw_headers)
    return response


def install(app: FastAPI) -> None:
    """Make *app* answer as the middleware does, and document its requirements in OpenAPI.

    Registers ``token_rejected_handler`` (RFC 6750 JSON bodies); answers a request that
    fails its route's jwtgate requirement with 401/403 even when its body is invalid too
    (never a 422 to an anonymous caller); and adds to each operation's OpenAPI the
    any-of scopes as security alternatives, roles and step-up in its description, and
    the 401/403 responses.
    """
    app.add_exception_handler(TokenRejected, token_rejected_handler)
    app.add_exception_handler(RequestValidationError, _auth_before_validation)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document(app, generate())
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def _route_guards(route: Any) -> tuple[list[Any], Requirement | None]:
    """The jwtgate dependencies of an ``APIRoute``, and its decorator's requirement."""
    found: list[Any] = []
    pending = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while pending:
        dep = pending.pop()
        if isinstance(dep.call, Guard):
            found.append(dep)
        pending += dep.dependencies
    return found, requirement_of(getattr(route, "endpoint", None))


async def _auth_before_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    deps, decorated = _route_guards(request.scope.get("route"))
    for dep in deps:
        needed = Requirement(scopes=validate_scope_tokens(dep.own_oauth_scopes or ()))
        call: Guard = dep.call
        try:
            await call.authorize(request, needed, optional=call.optional)
        except TokenRejected as refused:
            return await token_rejected_handler(request, refused)
    if decorated is not None and isinstance(request.scope.get("user"), BaseUser):
        user = request.scope["user"]
        error = decorated.evaluate(user.token if isinstance(user, TokenUser) else None)
        if error is not None:
            log_rejection(logger, error)
            rejected = TokenRejected(error, request.scope.get(CHALLENGES_KEY, "api"))
            return await token_rejected_handler(request, rejected)
    return await request_validation_exception_handler(request, exc)


def _document(app: FastAPI, schema: dict[str, Any]) -> None:
    for route in app.routes:
        deps, decorated = _route_guards(route)
        requirements = [d.call.requirement for d in deps]
        if decorated is not None:
            requirements.append(decorated)
        if not deps and decorated is None:
            continue
        requirement = sum(requirements, Requirement())
        scheme = deps[0].call.scheme_name if deps else None
        item = schema.get("paths", {}).get(getattr(route, "path_format", ""), {})
        for method in getattr(route, "methods", ()):
            if method.lower() in item:
                describe_operation(item[method.lower()], requirement, scheme)
