"""FastAPI integration: a security dependency that documents itself in OpenAPI.

    from fastapi import FastAPI, Security
    from jwtgate import JWTGateMiddleware, TokenUser
    from jwtgate.fastapi import JWTGateAuth, install

    app = FastAPI()
    app.add_middleware(JWTGateMiddleware)          # verifies; sets request.user
    install(app)                                   # RFC 6750 error bodies
    auth = JWTGateAuth(openid_connect_url="https://issuer.example/.well-known/openid-configuration")

    @app.get("/items")
    async def items(user: TokenUser = Security(auth, scopes=["items:read"])): ...

Two modes. With ``JWTGateMiddleware`` installed, ``JWTGateAuth()`` reads the user the
middleware verified (no second verification). Without the middleware, give it
*settings* or an *authenticator* (``JWTGateAuth.from_env()``) and it verifies the
bearer token itself. Either way a missing token answers 401, a bad one 401
``invalid_token``, a missing scope 403 ``insufficient_scope`` naming the scopes, and
503 with ``Retry-After`` while no keys can be had: the middleware's answers, byte for
byte once ``install(app)`` has registered the handler (without it, FastAPI's default
handler keeps the status and ``WWW-Authenticate`` but writes ``{"detail": ...}``).

FastAPI is an optional dependency (``pip install 'jwtgate[fastapi]'``); ``import
jwtgate`` never imports it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.openapi import models
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase

from ._config.settings import Settings
from ._exceptions import AuthError
from ._verify.authenticator import Authenticator
from ._verify.dpop_gate import bearer_refusal
from ._web.authorization import ClaimCheck, Requirement, validate_scope_tokens
from ._web.fastapi_install import Guard, TokenRejected, install, token_rejected_handler
from ._web.rfc6750 import Challenges, log_rejection, parse_authorization
from ._web.starlette import CHALLENGES_KEY, TokenUser

__all__ = [
    "JWTGateAuth",
    "JWTGateRequirement",
    "PastedToken",
    "TokenRejected",
    "install",
    "token_rejected_handler",
    "with_bearer",
]

logger = logging.getLogger("jwtgate.fastapi")


class JWTGateAuth(Guard):
    """A FastAPI security dependency: use it with ``Security(auth, scopes=[...])``.

    Returns the ``TokenUser`` (``.subject``, ``.scopes``, ``.claims``, ``.token``). With
    ``auto_error=False`` an anonymous request gets None instead of a 401.

    OpenAPI: with *authorization_url* and *token_url* the scheme is OAuth2's
    authorization code flow (enable PKCE in Swagger UI with
    ``swagger_ui_init_oauth={"clientId": ..., "usePkceWithAuthorizationCodeGrant": True}``),
    *scopes* describing each scope; with *openid_connect_url* (or ``openid_connect=True``
    and *settings*: the issuer's discovery URL) it is OpenID Connect; otherwise HTTP
    bearer with ``bearerFormat: JWT``. Each operation lists the scopes it needs.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        authenticator: Authenticator | None = None,
        openid_connect_url: str | None = None,
        openid_connect: bool = False,
        authorization_url: str | None = None,
        token_url: str | None = None,
        scopes: Mapping[str, str] | None = None,
        scheme_name: str = "jwtgate",
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if authenticator is None and settings is not None:
            authenticator = Authenticator(settings)
        self.authenticator = authenticator
        if openid_connect and openid_connect_url is None:
            if authenticator is None:
                raise ValueError("openid_connect=True needs settings (to find the issuer)")
            openid_connect_url = authenticator.settings.discovery_urls[0]
        self.model: Any
        if authorization_url is not None or token_url is not None:
            if authorization_url is None or token_url is None:
                raise ValueError(
                    "the authorization code flow needs both authorization_url and token_url"
                )
            flow = models.OAuthFlowAuthorizationCode(
                authorizationUrl=authorization_url, tokenUrl=token_url, scopes=dict(scopes or {})
            )
            self.model = models.OAuth2(
                flows=models.OAuthFlows(authorizationCode=flow), description=description
            )
        elif openid_connect_url is not None:
            self.model = models.OpenIdConnect(
                openIdConnectUrl=openid_connect_url, description=description
            )
        else:
            self.model = models.HTTPBearer(bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name
        self.auto_error = auto_error
        self.optional = not auto_error

    @classmethod
    def from_env(cls, **kwargs: Any) -> JWTGateAuth:
        """A self-verifying dependency configured from ``JWTGATE_*`` (raises on bad values)."""
        return cls(Settings.from_env(), **kwargs)

    def __repr__(self) -> str:
        mode = "self-verifying" if self.authenticator else "middleware"
        return f"JWTGateAuth({self.scheme_name!r}, {mode})"

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> TokenUser | None:
        needed = Requirement(scopes=validate_scope_tokens(security_scopes.scopes))
        return await self.authorize(request, needed, optional=not self.auto_error)

    def requires(
        self,
        *,
        scopes: Sequence[str] = (),
        any_scopes: Sequence[str] = (),
        roles: Sequence[str] = (),
        any_roles: Sequence[str] = (),
        acr_values: Sequence[str] | str = (),
        max_age: float | None = None,
        check: ClaimCheck | None = None,
    ) -> JWTGateRequirement:
        """A dependency for ``Security(...)`` enforcing more than all-of scopes.

        The keywords of ``jwtgate.requires``: *any_scopes* (one of them), *roles*,
        *any_roles*, *acr_values*/*max_age* (RFC 9470 step-up) and a custom *check*.
        ``Security(auth.requires(any_scopes=["reports:read", "admin:all"]))``.
        """
        return JWTGateRequirement(
            self,
            Requirement.of(
                scopes=scopes,
                any_scopes=any_scopes,
                roles=roles,
                any_roles=any_roles,
                acr_values=acr_values,
                max_age=max_age,
                check=check,
            ),
        )

    async def authorize(
        self, request: Request, requirement: Requirement, *, optional: bool = False
    ) -> TokenUser | None:
        """The request's user once it meets *requirement*; raises ``TokenRejected``.

        *optional*: an anonymous request gets None instead of a 401.
        """
        challenges = self._challenges(request)
        try:
            user = await self._user(request)
            if user is None and optional:
                return None
            error = requirement.evaluate(None if user is None else user.token)
            if error is not None:
                raise error
        except AuthError as exc:
            log_rejection(logger, exc)
            raise TokenRejected(exc, challenges) from None
        return user

    async def aclose(self) -> None:
        """Release the HTTP client of a self-verifying dependency (e.g. at app shutdown)."""
        if self.authenticator is not None:
            await self.authenticator.aclose()

    def _challenges(self, request: Request) -> Challenges | str:
        if self.authenticator is not None:
            return self.authenticator.settings.realm
        challenges: Challenges | str = request.scope.get(CHALLENGES_KEY, "api")
        return challenges

    async def _user(self, request: Request) -> TokenUser | None:
        user = request.scope.get("user")
        if isinstance(user, TokenUser):
            return user  # Verified by the middleware already.
        if self.authenticator is None:
            if "user" not in request.scope:
                raise RuntimeError(
                    "JWTGateAuth() found no user on the request: add JWTGateMiddleware to "
                    "the app, or let the dependency verify tokens itself with "
                    "JWTGateAuth(settings) / JWTGateAuth.from_env()"
                )
            return None
        settings = self.authenticator.settings
        token = parse_authorization(
            request.headers.getlist("authorization"), settings.max_token_bytes
        )
        if token is None:
            return None
        verified = await self.authenticator.authenticate(token)
        # A bound token (cnf) is never a bearer token; DPoP requests need the middleware.
        if "cnf" in verified.claims or settings.dpop == "required":
            raise bearer_refusal(verified)
        return TokenUser(verified)


class JWTGateRequirement(Guard):
    """``JWTGateAuth.requires(...)``: a ``Security`` dependency with a full ``Requirement``.

    Returns the ``TokenUser``; documented in OpenAPI under the ``JWTGateAuth``'s scheme
    (any-of scopes as alternatives once ``install(app)`` has run).
    """

    def __init__(self, auth: JWTGateAuth, requirement: Requirement) -> None:
        self.auth = auth
        self.requirement = requirement
        self.model = auth.model
        self.scheme_name = auth.scheme_name

    def __repr__(self) -> str:
        return f"JWTGateRequirement({self.requirement!r})"

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> TokenUser:
        needed = Requirement(scopes=validate_scope_tokens(security_scopes.scopes))
        user = await self.auth.authorize(request, self.requirement + needed)
        assert user is not None  # Not optional: an anonymous request was refused.
        return user

    async def authorize(
        self, request: Request, requirement: Requirement, *, optional: bool = False
    ) -> TokenUser | None:
        """``JWTGateAuth.authorize`` with this dependency's requirement added."""
        return await self.auth.authorize(request, self.requirement + requirement)


class PastedToken(SecurityBase):
    """An HTTP bearer scheme for OpenAPI only, so Swagger UI users may paste a token.

    It verifies nothing itself: use it through ``with_bearer(auth)``, where *auth*
    (or the middleware) does the verification.
    """

    def __init__(self, scheme_name: str = "bearer", description: str | None = None) -> None:
        self.model: Any = models.HTTPBearer(bearerFormat="JWT", description=description)
        self.scheme_name = scheme_name

    async def __call__(self) -> None:
        return None


def with_bearer(
    auth: JWTGateAuth, scheme_name: str = "bearer"
) -> Callable[..., Awaitable[TokenUser | None]]:
    """A dependency doing what *auth* does, documented with two alternative schemes.

    OpenAPI lists *auth*'s scheme (e.g. OAuth2 / OpenID Connect, for Swagger UI's
    login) and an HTTP bearer scheme named *scheme_name* (to paste a token)::

        user_or_paste = with_bearer(JWTGateAuth(openid_connect_url=...))

        @app.get("/items")
        async def items(user: Annotated[TokenUser, Security(user_or_paste, scopes=["items:read"])]):
            ...
    """
    pasted = PastedToken(scheme_name)

    async def dependency(user: TokenUser | None, _pasted: None) -> TokenUser | None:
        return user

    # Real objects, not the strings `from __future__ import annotations` leaves behind:
    # FastAPI reads the signature, and *auth* is a local name it could not resolve.
    keyword = inspect.Parameter.KEYWORD_ONLY
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("user", keyword, annotation=Annotated[Any, Security(auth)]),
            inspect.Parameter("_pasted", keyword, annotation=Annotated[Any, Security(pasted)]),
        ]
    )
    return dependency
