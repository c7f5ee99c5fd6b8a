"""The pure ASGI middleware."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import anyio
import httpx
from starlette.authentication import AuthCredentials, UnauthenticatedUser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._config.settings import Settings, env_var
from .._events import EventHook
from .._exceptions import AuthError, ConfigurationError
from .._keys.source import KeySource
from .._verify.authenticator import Authenticator, UnframedToken
from .._verify.dpop_gate import DPoPGate, bearer_refusal
from .._verify.verifier import VerifiedToken
from .metadata import ResourceMetadata
from .rfc6750 import Challenges, log_rejection, parse_credentials, render_error
from .rfc9449 import asgi_proofs, asgi_url, dpop_challenges, resource_origin
from .starlette import CHALLENGES_KEY, TokenUser

__all__ = ["JWTGateMiddleware"]

logger = logging.getLogger("jwtgate")


class JWTGateMiddleware:
    """Verify ``Authorization: Bearer`` JWTs and set ``scope["user"]`` and ``scope["auth"]``.

    A request without a bearer token passes through as anonymous (protect routes with
    ``requires_scope``); a request with a bad token is answered 401 ``invalid_token``, a
    malformed header 400 ``invalid_request``, and 503 while no signing keys can be had.

    *settings* defaults to ``Settings.from_env()``. *http_client* or *transport* replace
    the httpx client used to fetch keys; *key_set* replaces the key source entirely;
    *clock* (seconds since the epoch) replaces ``time.time`` for tests; *on_event*
    receives an ``Event`` for every key fetch, cache use and rejection. An
    *authenticator* built beforehand (to share it, e.g. with ``readiness_endpoint``)
    replaces all of these.

    ``Authorization: DPoP`` requests (RFC 9449) are checked by ``middleware.dpop``, a
    ``DPoPGate`` (None under ``JWTGATE_DPOP=disabled``); a token with ``cnf`` is never
    accepted as a bearer token.

    In the ASGI lifespan the keys are loaded in the background and then refreshed
    ahead of expiry until shutdown; without a lifespan they are fetched on demand.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings | None = None,
        *,
        key_set: KeySource | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_event: EventHook | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.app = app
        self.config_error: ConfigurationError | None = None
        if authenticator is not None and (settings is not None or key_set is not None):
            raise TypeError("pass settings (and key_set) or an authenticator, not both")
        from_env = settings is None and authenticator is None
        try:
            if authenticator is None:
                settings = settings or Settings.from_env()
                authenticator = Authenticator(
                    settings,
                    key_set=key_set,
                    http_client=http_client,
                    transport=transport,
                    clock=clock,
                    on_event=on_event,
                )
            gate = None
            if authenticator.settings.dpop != "disabled":
                gate = DPoPGate(authenticator.settings, authenticator, clock=clock)
        except ConfigurationError as exc:
            # Starlette builds its middleware inside the first ASGI call, where an
            # exception would be swallowed by uvicorn's lifespan "auto" mode: keep it
            # and refuse the lifespan startup instead, which makes the server exit.
            if from_env and not exc.setting.startswith("JWTGATE_"):
                exc = ConfigurationError(env_var(exc.setting), exc.problem)  # A key file.
            self.config_error = exc
            # Said once, where it stops the server: at lifespan startup (or raised by
            # the first request without a lifespan), not here as well.
            logger.debug("Invalid jwtgate configuration: %s", exc)
            return
        self.authenticator = authenticator
        self.settings = settings = authenticator.settings
        self.key_set = self.authenticator.key_set
        self.metadata = ResourceMetadata.for_settings(settings)  # RFC 9728, when configured.
        url = None if self.metadata is None else self.metadata.url
        self._challenges = Challenges(realm=settings.realm, resource_metadata=url)
        # DPoP (RFC 9449): challenges for requests without and with the DPoP scheme.
        self._challenges, self._dpop_challenges = dpop_challenges(self._challenges, settings)
        self.dpop, self._dpop_required = gate, settings.dpop == "required"
        self._nonces = gate is not None and settings.use_dpop_nonce
        self._origin = resource_origin(settings.resource)
        self._max_token = settings.max_token_bytes
        self._max_header = len("Bearer ") + settings.max_token_bytes
        self._cache_on = authenticator.token_cache is not None
        self._excludes = bool(settings.exclude_paths)
        self._exact = frozenset(p for p in settings.exclude_paths if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in settings.exclude_paths if p.endswith("*"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type != "http" and scope_type != "websocket":  # noqa: PLR1714 (hot path)
            if scope_type == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        # An HTTP request or a websocket handshake, in one flat method: the hot path.
        if self.config_error is not None:
            raise self.config_error
        scope[CHALLENGES_KEY] = self._challenges
        metadata = self.metadata  # RFC 9728: public, answered before any token is looked at.
        if metadata is not None and scope_type == "http" and scope["path"] in metadata.paths:
            await metadata.serve_asgi(scope, receive, send)
            return
        if self._excludes and self._excluded(scope["path"]):
            # Fresh objects per request: the scopes list is mutable, and so are the users.
            scope["user"], scope["auth"] = UnauthenticatedUser(), AuthCredentials()
            await self.app(scope, receive, send)
            return
        authenticator, verified, entry = self.authenticator, None, None
        try:
            values = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    values = [value] if values is None else [*values, value]
            if values is not None:
                value = values[0]
                if (
                    len(values) == 1
                    and 7 < len(value) <= self._max_header
                    and value.startswith(b"Bearer ")
                ):
                    # The usual shape, "Bearer <token>": the bytes after the space are taken
                    # as the token at once. The cache only holds tokens that parsed, so a
                    # hit proves the shape; on a miss, parsing the token checks it, and
                    # anything it refuses is parsed again as a header (UnframedToken).
                    raw = value[7:]
                    if self._cache_on:
                        entry, verified = authenticator.lookup(raw)
                    if verified is None:
                        try:
                            verified = await authenticator.authenticate_cut(raw, entry)
                        except UnframedToken:
                            verified = await self._from_header(values, scope)
                    # A token bound to a key (cnf) is never a bearer token (RFC 9449 §7.1).
                    if verified is not None and ("cnf" in verified.claims or self._dpop_required):
                        raise bearer_refusal(verified)
                else:
                    verified = await self._from_header(values, scope)
                    if self._nonces and scope[CHALLENGES_KEY] is self._dpop_challenges:
                        send = self._with_nonce(send)  # RFC 9449 §8.2: the next nonce.
        except AuthError as exc:
            log_rejection(logger, exc)
            await self._reject(exc, scope, send)
            return
        if verified is None:
            scope["user"], scope["auth"] = UnauthenticatedUser(), AuthCredentials()
        else:
            scope["user"] = TokenUser(verified)
            # A fresh AuthCredentials (its scopes list is mutable) with the scopes sorted.
            if entry is not None and entry.token is verified:
                scope["auth"] = AuthCredentials(entry.scopes)
            else:
                scope["auth"] = AuthCredentials(sorted(verified.scopes))
        await self.app(scope, receive, send)

    async def authenticate(self, token: str) -> VerifiedToken:
        """Verify *token*, fetching keys if the cache rules allow; raises ``AuthError``.

        The same as ``self.authenticator.authenticate`` (which requests go through).
        """
        return await self.authenticator.authenticate(token)

    def _excluded(self, path: str) -> bool:
        return path in self._exact or bool(self._prefixes and path.startswith(self._prefixes))

    async def _from_header(self, values: list[bytes], scope: Scope) -> VerifiedToken | None:
        # The header parsed by the rules of parse_credentials, then the token verified.
        found = parse_credentials(
            [v.decode("latin-1") for v in values], self._max_token, dpop=self.dpop is not None
        )
        if found is None:
            return None
        scheme, token = found
        if scheme == "Bearer" or self.dpop is None:
            verified = await self.authenticator.authenticate(token)
            if "cnf" in verified.claims or self._dpop_required:
                raise bearer_refusal(verified)
            return verified
        scope[CHALLENGES_KEY] = self._dpop_challenges  # Errors now answer on the DPoP challenge.
        url = asgi_url(scope, self._origin)
        method = scope.get("method", "GET")  # A websocket handshake is a GET.
        return await self.dpop.authenticate(token, asgi_proofs(scope), method, url)

    def _with_nonce(self, send: Send) -> Send:
        """*send* adding ``DPoP-Nonce`` to the answer, so clients need no extra round trip."""
        nonce = (self.dpop.current_nonce() if self.dpop is not None else None) or ""

        async def send_with_nonce(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"dpop-nonce", nonce.encode())]
                message = {**message, "headers": headers}
            await send(message)

        return send_with_nonce

    async def _reject(self, exc: AuthError, scope: Scope, send: Send) -> None:
        challenges = self._dpop_challenges if exc.scheme == "DPoP" else scope[CHALLENGES_KEY]
        status, headers, body = render_error(exc, challenges)
        if scope["type"] == "websocket":
            if "websocket.http.response" not in scope.get("extensions", {}):
                # Without the denial-response extension a close before accept is a 403.
                code = 1013 if status == 503 else 1008
                await send({"type": "websocket.close", "code": code, "reason": ""})
                return
            start, body_type = "websocket.http.response.start", "websocket.http.response.body"
        else:
            start, body_type = "http.response.start", "http.response.body"
        await send({"type": start, "status": status, "headers": headers})
        await send({"type": body_type, "body": body})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.config_error is not None:
            await self._refuse_startup(receive, send)
            return
        background = anyio.CancelScope()
        stopped = anyio.Event()
        started: list[bool] = []

        async def refresh() -> None:
            try:
                with background:
                    await self.authenticator.keep_fresh()
            finally:
                stopped.set()

        async with anyio.create_task_group() as tasks:

            async def lifespan_receive() -> Message:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    # Fetch the keys in the background, then keep them fresh: the server
                    # starts even when the issuer is down, and early requests join this fetch.
                    tasks.start_soon(refresh)
                    started.append(True)
                elif message["type"] == "lifespan.shutdown":
                    background.cancel()
                    if started:
                        # Servers may stop the event loop right after shutdown.complete:
                        # let the refresher finish first, not be torn down mid-task.
                        await stopped.wait()
                    await self.authenticator.aclose()
                    if self.dpop is not None:
                        await self.dpop.aclose()
                return message

            try:
                await self.app(scope, lifespan_receive, send)
            finally:
                background.cancel()

    async def _refuse_startup(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] == "lifespan.startup":
            text = f"Invalid jwtgate configuration: {self.config_error}"
            server = type(getattr(receive, "__self__", None)).__module__
            if not server.startswith(("uvicorn.", "hypercorn.")):
                # Servers differ in whether they print the message; these two do.
                print(text, file=sys.stderr)
            await send({"type": "lifespan.startup.failed", "message": text})
