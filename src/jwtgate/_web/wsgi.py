"""The WSGI middleware: the same verification and answers as the ASGI one, for threads.

Results go under namespaced environ keys (werkzeug style): ``environ["jwtgate.user"]``
is a ``TokenUser`` or None, ``environ["jwtgate.challenges"]`` the challenges for the scope
decorators. Framework helpers (``jwtgate.flask``, ``jwtgate.django``) read them; this
module imports no web framework.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from .._config.settings import Settings
from .._exceptions import AuthenticationRequired, AuthError, InsufficientScope
from .._verify.authenticator import Authenticator
from .._verify.dpop_gate import DPoPGate, bearer_refusal
from .._verify.verifier import VerifiedToken
from .metadata import ResourceMetadata
from .rfc6750 import (
    Challenges,
    ErrorResponse,
    log_rejection,
    parse_credentials,
    render_error,
    split_joined,
)
from .rfc9449 import dpop_challenges, resource_origin, wsgi_proofs, wsgi_url
from .starlette import TokenUser

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
else:
    StartResponse = WSGIApplication = WSGIEnvironment = Any

__all__ = ["USER_KEY", "JWTGateWSGIMiddleware", "check_environ", "environ_user"]

logger = logging.getLogger("jwtgate.wsgi")

#: The environ key holding the ``TokenUser`` (or None for anonymous requests).
USER_KEY = "jwtgate.user"
#: The environ key holding the realm, for the scope decorators' challenges.
CHALLENGES_KEY = "jwtgate.challenges"
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


class JWTGateWSGIMiddleware:
    """Verify ``Authorization: Bearer`` JWTs for a WSGI app; sets ``environ["jwtgate.user"]``.

    The WSGI twin of ``JWTGateMiddleware``: a request without a bearer token passes
    through as anonymous (``environ["jwtgate.user"] is None``; protect views with
    ``jwtgate.flask.requires_scope`` or ``jwtgate.django.requires_scope``); a bad token
    gets 401 ``invalid_token``, a malformed header 400, and 503 with ``Retry-After``
    while no signing keys can be had. Keys are fetched with a synchronous httpx client
    on first use; concurrent threads share one fetch (``Authenticator``).

    *settings* defaults to ``Settings.from_env()``, which raises ``ConfigurationError``
    (an ordinary exception) on a bad value: under gunicorn the worker then fails to boot
    and the arbiter exits non-zero, instead of restarting the worker forever as it
    would after ``SystemExit``. *authenticator* replaces the whole verification
    object; *http_client*/*transport* replace the sync httpx client or its transport.
    DPoP requests are checked by ``middleware.dpop`` (a ``DPoPGate``, None when disabled).
    To load keys before the first request, call ``middleware.authenticator.prefetch_sync()``
    (e.g. in gunicorn's ``post_worker_init`` hook: never before a fork).
    """

    def __init__(
        self,
        app: WSGIApplication,
        settings: Settings | None = None,
        *,
        authenticator: Authenticator | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        if authenticator is None:
            authenticator = Authenticator(
                settings or Settings.from_env(),
                sync_http_client=http_client,
                sync_transport=transport,
                clock=clock,
            )
        self.use(authenticator)

    def use(self, authenticator: Authenticator) -> None:
        """Verify with *authenticator* from now on (the testing kit's override uses this)."""
        self.authenticator = authenticator
        settings = authenticator.settings
        self.settings = settings
        self.metadata = ResourceMetadata.for_settings(settings)  # RFC 9728, when configured.
        url = None if self.metadata is None else self.metadata.url
        self._challenges = Challenges(realm=settings.realm, resource_metadata=url)
        # DPoP (RFC 9449): challenges for requests without and with the DPoP scheme.
        self._challenges, self._dpop_challenges = dpop_challenges(self._challenges, settings)
        previous = getattr(self, "dpop", None)
        if previous is not None:
            previous.close()
        self.dpop = None if settings.dpop == "disabled" else DPoPGate(settings, authenticator)
        self._dpop_required = settings.dpop == "required"
        self._origin = resource_origin(settings.resource)
        self._max_token = settings.max_token_bytes
        self._exact = frozenset(p for p in settings.exclude_paths if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in settings.exclude_paths if p.endswith("*"))

    def __repr__(self) -> str:
        return f"JWTGateWSGIMiddleware({self.app!r}, {self.authenticator!r})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[CHALLENGES_KEY] = self._challenges
        environ[USER_KEY] = None
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if self.metadata is not None and path in self.metadata.paths:
            return self.metadata.serve_wsgi(environ, start_response)
        if path in self._exact or (self._prefixes and path.startswith(self._prefixes)):
            return self.app(environ, start_response)
        header = environ.get("HTTP_AUTHORIZATION")
        try:
            # WSGI servers join repeated headers with ","; split_joined undoes it (400).
            found = parse_credentials(
                split_joined(header), self._max_token, dpop=self.dpop is not None
            )
            if found is not None:
                environ[USER_KEY] = TokenUser(self._verify(environ, *found))
                if found[0] == "DPoP" and self.dpop is not None:
                    nonce = self.dpop.current_nonce()
                    if nonce is not None:  # RFC 9449 §8.2: the next nonce, without a round trip.
                        start_response = _with_nonce(start_response, nonce)
        except AuthError as exc:
            log_rejection(logger, exc)
            challenges = self._dpop_challenges if exc.scheme == "DPoP" else environ[CHALLENGES_KEY]
            return respond(render_error(exc, challenges), start_response)
        return self.app(environ, start_response)

    def _verify(self, environ: WSGIEnvironment, scheme: str, token: str) -> VerifiedToken:
        if scheme == "Bearer" or self.dpop is None:
            verified = self.authenticator.authenticate_sync(token)
            # A token bound to a key (cnf) is never a bearer token (RFC 9449 §7.1).
            if "cnf" in verified.claims or self._dpop_required:
                raise bearer_refusal(verified)
            return verified
        environ[CHALLENGES_KEY] = self._dpop_challenges  # Errors answer on the DPoP challenge.
        method = environ.get("REQUEST_METHOD", "GET")
        url = wsgi_url(environ, self._origin)
        return self.dpop.authenticate_sync(token, wsgi_proofs(environ), method, url)

    def close(self) -> None:
        """Release the HTTP client, if jwtgate created it, and the Redis connections."""
        self.authenticator.close()
        if self.dpop is not None:
            self.dpop.close()


def _with_nonce(start_response: StartResponse, nonce: str) -> StartResponse:
    """*start_response* adding ``DPoP-Nonce``, so clients need no extra round trip."""

    def start_with_nonce(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        return start_response(status, [*headers, ("DPoP-Nonce", nonce)], *exc_info)

    return start_with_nonce


def respond(response: ErrorResponse, start_response: StartResponse) -> list[bytes]:
    """Send a rendered RFC 6750 answer through WSGI's *start_response*."""
    status, headers, body = response
    phrase = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
        status, "Service Unavailable"
    )
    start_response(
        f"{status} {phrase}", [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    )
    return [body]


def environ_user(environ: WSGIEnvironment) -> TokenUser | None:
    """The verified user of a WSGI request, or None for an anonymous one.

    Raises ``RuntimeError`` when the middleware did not see the request: a forgotten
    middleware must not look like an anonymous caller.
    """
    if USER_KEY not in environ:
        raise RuntimeError(
            "jwtgate found no user on the request: wrap the WSGI app in "
            "JWTGateWSGIMiddleware (for Flask: app.wsgi_app = JWTGateWSGIMiddleware(app.wsgi_app))"
        )
    user: TokenUser | None = environ[USER_KEY]
    return user


def check_environ(environ: WSGIEnvironment, needed: tuple[str, ...]) -> ErrorResponse | None:
    """The rendered answer when the request lacks *needed* scopes, or None to proceed."""
    user = environ_user(environ)
    error: AuthError | None = None
    if user is None:
        error = AuthenticationRequired(scopes=needed)  # Named with resource metadata (MCP).
    elif not user.scopes.issuperset(needed):
        error = InsufficientScope(needed)
    if error is None:
        return None
    logger.debug("Refused by requires_scope: reason=%s", error.reason)
    return render_error(error, environ.get(CHALLENGES_KEY, "api"))
