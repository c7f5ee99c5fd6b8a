"""Apps for subprocess tests."""

from starlette.applications import Starlette
from starlette.middleware import Middleware

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware

# No settings passed: the middleware reads JWTGATE_* itself, inside Starlette's lazy
# middleware build (the case uvicorn's lifespan "auto" mode would otherwise swallow).
env_configured_app = Starlette(middleware=[Middleware(JWTGateMiddleware)])

# The WSGI twin: JWTGATE_* read when the middleware is built, at import.
env_configured_wsgi_app = JWTGateWSGIMiddleware(lambda environ, start_response: [])
