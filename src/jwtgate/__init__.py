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
    JWTGateError,
    KeySetUnavailable,
    MalformedToken,
    UnknownKey,
)
from ._jwk import JWK, KeySet
from ._remote import RemoteKeySet
from ._starlette import TokenUser, requires_scope
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
    "JWTGateError",
    "JWTGateMiddleware",
    "JWTGateWSGIMiddleware",
    "KeySet",
    "KeySetUnavailable",
    "MalformedToken",
    "RemoteKeySet",
    "Settings",
    "TokenUser",
    "TokenVerifier",
    "UnknownKey",
    "UnverifiedToken",
    "VerifiedToken",
    "__version__",
    "extract_scopes",
    "parse_token",
    "requires_scope",
]
