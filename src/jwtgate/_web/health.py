"""A readiness endpoint: 200 when every issuer's signing keys are loaded, else 503.

    auth = Authenticator(Settings.from_env())
    app = Starlette(
        routes=[Route("/ready", readiness_endpoint(auth))],
        middleware=[Middleware(JWTGateMiddleware, authenticator=auth)],
    )

The body tells operators which issuer is not ready and how old its keys are; it
never includes fetch error messages (an internal detail for the logs), except a
configuration error such as discovery naming another issuer, which retrying cannot fix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from .._verify.authenticator import Authenticator

__all__ = ["readiness_endpoint"]


def readiness_endpoint(
    authenticator: Authenticator,
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """A Starlette endpoint answering whether *authenticator* has usable keys (200/503)."""

    async def ready(request: Request) -> JSONResponse:
        states = authenticator.state()
        body = {
            "ready": all(state.ready for state in states),
            "issuers": [
                {
                    "issuer": state.issuer,
                    "ready": state.ready,
                    "stale": state.stale,
                    "keys": len(state.kids),
                    "age": None if state.age is None else round(state.age, 1),
                    "refreshing": state.refreshing,
                    # A configuration error (not an outage) is named: the operator must act.
                    **({"configuration_error": state.config_error} if state.config_error else {}),
                }
                for state in states
            ],
        }
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    return ready
