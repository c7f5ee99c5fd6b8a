"""jwtgate: put an API behind OAuth2/OIDC access tokens in one line.

from starlette.middleware import Middleware
from jwtgate import JWTGateMiddleware, requires_scope

app = Starlette(routes=routes, middleware=[Middleware(JWTGateMiddleware)])
"""

from .__version__ import __version__
from ._config.issuers import IssuerConfig
from ._config.settings import ASYMMETRIC_ALGORITHMS, Settings
from ._dpop_exceptions import InvalidDPoPProof, StateUnavailable, TokenBindingError, UseDPoPNonce
from ._events import Event, EventHook
from ._exceptions import (
    AccessDenied,
    AuthenticationRequired,
    AuthError,
    ClaimRuleViolation,
    ConfigurationError,
    ExpiredToken,
    ImmatureToken,
    InsufficientRole,
    InsufficientScope,
    InsufficientUserAuthentication,
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
from ._introspection_exceptions import IntrospectionUnavailable
from ._keys.jwk import JWK, KeySet
from ._keys.remote import RemoteKeySet
from ._keys.source import KeySetState, KeySource
from ._keys.static import StaticKeySet
from ._state.replay import MemoryReplayStore, ReplayStore
from ._verify.authenticator import Authenticator
from ._verify.claims import extract_scopes
from ._verify.dpop import jwk_thumbprint
from ._verify.dpop_gate import DPoPGate
from ._verify.introspection import Introspector
from ._verify.token import UnverifiedToken, parse_token
from ._verify.verifier import TokenVerifier, VerifiedToken
from ._web.asgi import JWTGateMiddleware
from ._web.authorization import ClaimCheck, Requirement
from ._web.health import readiness_endpoint
from ._web.starlette import TokenUser, requires, requires_role, requires_scope, requires_step_up
from ._web.wsgi import JWTGateWSGIMiddleware

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "JWK",
    "AccessDenied",
    "AuthError",
    "AuthenticationRequired",
    "Authenticator",
    "ClaimCheck",
    "ClaimRuleViolation",
    "ConfigurationError",
    "DPoPGate",
    "Event",
    "EventHook",
    "ExpiredToken",
    "ImmatureToken",
    "InsufficientRole",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "IntrospectionUnavailable",
    "Introspector",
    "InvalidAlgorithm",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidDPoPProof",
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
    "MemoryReplayStore",
    "RemoteKeySet",
    "ReplayStore",
    "Requirement",
    "Settings",
    "StateUnavailable",
    "StaticKeySet",
    "TokenBindingError",
    "TokenTooOld",
    "TokenUser",
    "TokenVerifier",
    "UnknownKey",
    "UnverifiedToken",
    "UseDPoPNonce",
    "VerifiedToken",
    "__version__",
    "extract_scopes",
    "jwk_thumbprint",
    "parse_token",
    "readiness_endpoint",
    "requires",
    "requires_role",
    "requires_scope",
    "requires_step_up",
]
