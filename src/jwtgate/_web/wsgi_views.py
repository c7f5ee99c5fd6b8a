"""Requirements on WSGI views (Flask, Django): the decorators' shared machinery.

The WSGI middleware leaves the ``TokenUser`` in the environ; a protected view checks
its ``Requirement`` there and answers the same bytes as the ASGI decorators would.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .authorization import Requirement
from .rfc6750 import ErrorResponse, render_error
from .starlette import REQUIREMENT_ATTR
from .wsgi import CHALLENGES_KEY, environ_user

__all__ = ["ViewGuard"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("jwtgate.wsgi")
_INNER = "__jwtgate_inner__"


class ViewGuard:
    """Turns a ``Requirement`` into a view decorator for one WSGI framework.

    *environ_of* finds the WSGI environ from the view's arguments; *respond* turns a
    rendered RFC 6750 answer into the framework's response object.
    """

    def __init__(
        self,
        environ_of: Callable[[tuple[Any, ...]], dict[str, Any]],
        respond: Callable[[ErrorResponse], Any],
    ) -> None:
        self.environ_of = environ_of
        self.respond = respond

    def denied(self, environ: dict[str, Any], requirement: Requirement) -> ErrorResponse | None:
        """The rendered answer when the request does not meet *requirement*, or None."""
        user = environ_user(environ)
        error = requirement.evaluate(None if user is None else user.token)
        if error is None:
            return None
        logger.debug("Refused by a jwtgate requirement: reason=%s", error.reason)
        return render_error(error, environ.get(CHALLENGES_KEY, "api"))

    def __call__(self, requirement: Requirement) -> Callable[[F], F]:
        """A decorator enforcing *requirement* on a view; stacked ones are joined."""

        def decorator(view: F) -> F:
            joined = requirement
            inner = getattr(view, _INNER, None)
            if inner is not None:
                joined = requirement + getattr(view, REQUIREMENT_ATTR)
                view = inner

            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                denied = self.denied(self.environ_of(args), joined)
                if denied is not None:
                    return self.respond(denied)
                return view(*args, **kwargs)

            wrapper.__jwtgate_scopes__ = joined.scopes  # type: ignore[attr-defined]
            setattr(wrapper, REQUIREMENT_ATTR, joined)
            setattr(wrapper, _INNER, view)
            return wrapper  # type: ignore[return-value]

        return decorator
