"""jwtgate: put an API behind OAuth2/OIDC access tokens in one line.

from starlette.middleware import Middleware
from jwtgate import JWTGateMiddleware, requires_scope

app = Starlette(routes=routes, middleware=[Middleware(JWTGateMiddleware)])
"""

from .__version__ import __version__
from ._asgi import JWTGateMiddleware
from ._authenticator import Authenticator
from ._claims import extract_scopes
from ._config import ASYMMETRIC_ALGORITHMS, Settings
from ._events import Event, EventHook
from ._exceptions import (
    AuthenticationRequired,
    AuthError,
    ConfigurationError,
    ExpiredToken,
    ImmatureToken,
    InsufficientScope,
    InvalidAlgorithm,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidRequest,
    InvalidSignature,
    InvalidToken,
    InvalidTokenType,
    JWTGateError,
    KeySetUnavailable,
    MalformedToken,
    TokenTooOld,
    UnknownKey,
)
from ._health import readiness_endpoint
from ._issuers import IssuerConfig
from ._jwk import JWK, KeySet
from ._keysource import KeySetState, KeySource
from ._remote import RemoteKeySet
from ._starlette import TokenUser, requires_scope
from ._static import StaticKeySet
from ._token import UnverifiedToken, parse_token
from ._verifier import TokenVerifier, VerifiedToken
from ._wsgi import JWTGateWSGIMiddleware

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "JWK",
    "AuthError",
    "AuthenticationRequired",
    "Authenticator",
    "ConfigurationError",
    "Event",
    "EventHook",
    "ExpiredToken",
    "ImmatureToken",
    "InsufficientScope",
    "InvalidAlgorithm",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidRequest",
    "InvalidSignature",
    "InvalidToken",
    "InvalidTokenType",
    "IssuerConfig",
    "JWTGateError",
    "JWTGateMiddleware",
    "JWTGateWSGIMiddleware",
    "KeySet",
    "KeySetState",
    "KeySetUnavailable",
    "KeySource",
    "MalformedToken",
    "RemoteKeySet",
    "Settings",
    "StaticKeySet",
    "TokenTooOld",
    "TokenUser",
    "TokenVerifier",
    "UnknownKey",
    "UnverifiedToken",
    "VerifiedToken",
    "__version__",
    "extract_scopes",
    "parse_token",
    "readiness_endpoint",
    "requires_scope",
]
