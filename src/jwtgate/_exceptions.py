"""The exception tree.

Every error jwtgate raises derives from ``JWTGateError``::

    JWTGateError
    ├── ConfigurationError            a setting is missing or invalid (startup)
    └── AuthError                     a request cannot be authenticated (RFC 6750)
        ├── AuthenticationRequired    401 (no error code): no token, and the route needs one
        ├── InvalidRequest            400 invalid_request: malformed Authorization header
        ├── InvalidToken              401 invalid_token: the token is not acceptable
        │   ├── MalformedToken        not a well-formed JWS compact token
        │   ├── InvalidAlgorithm      alg not allowed, or does not fit the key
        │   ├── UnknownKey            no usable key matches the token
        │   ├── InvalidSignature      the signature does not verify
        │   ├── InvalidTokenType      typ is not an access token type (strict mode)
        │   └── InvalidClaim          a claim is missing or has a bad value
        │       ├── ExpiredToken      exp is in the past
        │       ├── ImmatureToken     nbf or iat is in the future
        │       ├── TokenTooOld       exp - iat or now - iat exceeds the configured maximum
        │       ├── InvalidIssuer     iss does not match
        │       ├── InvalidAudience   aud does not match
        │       └── ClaimRuleViolation  a claim breaks a configured claim rule
        ├── InsufficientScope         403 insufficient_scope: a required scope is missing
        ├── AccessDenied              403 insufficient_scope (no scope): a custom check refused
        │   └── InsufficientRole      a required role is missing
        ├── InsufficientUserAuthentication  401: step-up needed (RFC 9470 acr / max_age)
        └── KeySetUnavailable         503 temporarily_unavailable: no usable keys can be had

Sender-constrained tokens (RFC 9449) add, in ``_dpop_exceptions``: ``TokenBindingError``
(an ``InvalidToken``: ``cnf`` sent as Bearer, or no binding under DPoP),
``InvalidDPoPProof`` (401 ``invalid_dpop_proof``) with ``UseDPoPNonce`` (401
``use_dpop_nonce``), and ``StateUnavailable`` (503: the shared state is unreachable).
Opaque tokens (RFC 7662) add, in ``_introspection_exceptions``, ``IntrospectionUnavailable``
(a ``KeySetUnavailable``, 503: the introspection endpoint gave no usable answer).

Each ``AuthError`` carries its RFC 6750 ``error`` code, its HTTP ``status_code`` and a
``description`` that is safe to send to the client: it never contains the token or
unescaped attacker input.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuthError",
    "AuthenticationRequired",
    "ClaimRuleViolation",
    "ConfigurationError",
    "ExpiredToken",
    "ImmatureToken",
    "InsufficientRole",
    "InsufficientScope",
    "InsufficientUserAuthentication",
    "InvalidAlgorithm",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidRequest",
    "InvalidSignature",
    "InvalidToken",
    "InvalidTokenType",
    "JWTGateError",
    "KeySetUnavailable",
    "MalformedToken",
    "TokenTooOld",
    "UnknownKey",
]


class JWTGateError(Exception):
    """Root of every exception jwtgate raises."""


class ConfigurationError(JWTGateError, ValueError):
    """A setting is missing or invalid; raised at startup, naming the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class AuthError(JWTGateError):
    """A request cannot be authenticated; maps to an RFC 6750 answer."""

    error: str = "invalid_request"
    status_code: int = 400
    #: Short machine-readable reason, for logs and metrics (never sent as a header).
    reason: str = "invalid_request"
    #: The auth scheme whose challenge carries this error (``DPoP`` for a bad proof);
    #: None: the scheme the request used.
    scheme: str | None = None

    @property
    def challenge_params(self) -> tuple[tuple[str, str], ...]:
        """Attributes the challenge (and the JSON body) carries besides the error."""
        return ()

    def __init__(self, description: str, *, reason: str | None = None) -> None:
        self.description = description
        if reason is not None:
            self.reason = reason
        super().__init__(description)


class AuthenticationRequired(AuthError):
    """401: no bearer token was sent, and the resource needs one."""

    error = "unauthorized"
    status_code = 401
    reason = "no_token"

    def __init__(
        self,
        description: str = "This resource requires a bearer token.",
        *,
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.scopes = scopes
        super().__init__(description)

    @property
    def challenge_params(self) -> tuple[tuple[str, str], ...]:
        """``scope``: the scopes the resource needs, when known (sent with resource metadata)."""
        return (("scope", " ".join(self.scopes)),) if self.scopes else ()


class InvalidRequest(AuthError):
    """400: the Authorization header is malformed."""

    error = "invalid_request"
    status_code = 400
    reason = "invalid_request"


class InvalidToken(AuthError):
    """401: a token was presented but is not acceptable."""

    error = "invalid_token"
    status_code = 401
    reason = "invalid_token"


class MalformedToken(InvalidToken):
    """401: the token is not a well-formed JWS in compact serialization."""

    reason = "malformed"


class InvalidAlgorithm(InvalidToken):
    """401: the header's ``alg`` is not allowed or does not fit the key."""

    reason = "algorithm"


class UnknownKey(InvalidToken):
    """401: no usable key in the key set matches the token's ``kid`` and ``alg``."""

    reason = "unknown_key"


class InvalidSignature(InvalidToken):
    """401: the signature does not verify."""

    reason = "signature"


class InvalidTokenType(InvalidToken):
    """401: the header's ``typ`` is not ``at+jwt`` (strict access-token mode, RFC 9068 §4)."""

    reason = "token_type"


class InvalidClaim(InvalidToken):
    """401: a claim is missing or has an unacceptable value."""

    reason = "claim"

    def __init__(self, description: str, *, claim: str, reason: str | None = None) -> None:
        self.claim = claim
        super().__init__(description, reason=reason)


class ExpiredToken(InvalidClaim):
    """401: the token's ``exp`` has passed."""

    reason = "expired"


class ImmatureToken(InvalidClaim):
    """401: the token's ``nbf`` or ``iat`` lies in the future."""

    reason = "immature"


class TokenTooOld(InvalidClaim):
    """401: the token lives longer (``exp - iat``) or was issued earlier than allowed."""

    reason = "too_old"


class InvalidIssuer(InvalidClaim):
    """401: the token's ``iss`` is not the expected issuer."""

    reason = "issuer"


class InvalidAudience(InvalidClaim):
    """401: the token's ``aud`` names none of the accepted audiences."""

    reason = "audience"


class InsufficientScope(AuthError):
    """403: the token is valid but lacks a required scope."""

    error = "insufficient_scope"
    status_code = 403
    reason = "insufficient_scope"

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes
        super().__init__("The access token lacks a scope this resource requires.")

    @property
    def challenge_params(self) -> tuple[tuple[str, str], ...]:
        """``scope``: the scopes that would be enough, space-separated (RFC 6750 §3)."""
        return (("scope", " ".join(self.scopes)),)


class ClaimRuleViolation(InvalidClaim):
    """401: a claim is missing or breaks a configured claim rule (the token is not for this API)."""

    reason = "claim_rule"


class AccessDenied(AuthError):
    """403 ``insufficient_scope`` without a ``scope`` attribute: the token may not do this.

    Raise it from a custom check (``requires(check=...)``) to refuse a valid token;
    raise an ``InvalidToken`` to answer 401 instead.
    """

    error = "insufficient_scope"
    status_code = 403
    reason = "access_denied"

    def __init__(self, description: str = "The access token does not allow this request.") -> None:
        super().__init__(description)


class InsufficientRole(AccessDenied):
    """403: the token is valid but lacks a required role."""

    reason = "insufficient_role"

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles
        super().__init__("The access token lacks a role this resource requires.")


class InsufficientUserAuthentication(AuthError):
    """401 ``insufficient_user_authentication`` (RFC 9470): the user must authenticate again.

    The challenge carries what a new token must satisfy: ``acr_values`` (space-separated,
    in order of preference) and ``max_age`` (seconds since the user's authentication).
    """

    error = "insufficient_user_authentication"
    status_code = 401
    reason = "step_up"

    def __init__(self, acr_values: tuple[str, ...] = (), max_age: int | None = None) -> None:
        self.acr_values = acr_values
        self.max_age = max_age
        super().__init__("The user's authentication does not meet this resource's requirements.")

    @property
    def challenge_params(self) -> tuple[tuple[str, str], ...]:
        """``acr_values`` and ``max_age`` (RFC 9470 §3), for those the resource requires."""
        params: list[tuple[str, str]] = []
        if self.acr_values:
            params.append(("acr_values", " ".join(self.acr_values)))
        if self.max_age is not None:
            params.append(("max_age", str(self.max_age)))
        return tuple(params)


class KeySetUnavailable(AuthError):
    """503: the key set cannot be fetched and no usable cached key exists."""

    error = "temporarily_unavailable"
    status_code = 503
    reason = "keys_unavailable"

    def __init__(self, description: str, *, retry_after: int = 5) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(description)
