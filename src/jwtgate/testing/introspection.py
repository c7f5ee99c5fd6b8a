"""The development issuer's opaque tokens and its RFC 7662 introspection endpoint.

    token = issuer.mint_opaque(sub="alice", scopes=["items:read"])
    issuer.revoke(token)                       # introspected as inactive from now on
    issuer.opaque.fault = "error"              # 500 from now on ("garbage", "slow" too)

``issuer.opaque.calls`` counts the introspection requests the endpoint answered
(counts asserted from the server's side). The endpoint wants HTTP Basic (or
``client_secret_post``) with ``opaque.client_id``/``opaque.client_secret``;
``private_key_jwt`` assertions are accepted when ``opaque.client_keys`` is set.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import jwt

__all__ = ["FAULTS", "OpaqueTokens"]

#: Fault injection: ``error`` answers 500, ``garbage`` 200 with a body that is not JSON,
#: ``inactive-shape`` 200 without ``active``, ``slow`` waits ``delay`` seconds first.
FAULTS = ("error", "garbage", "inactive-shape", "slow")
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class OpaqueTokens:
    """Opaque tokens minted by one issuer, and the endpoint that introspects them."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        client_id: str = "jwtgate-api",
        client_secret: str = "dev-introspection-secret",  # noqa: S107 (development only)
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.client_id = client_id
        self.client_secret = client_secret
        #: Public keys (PEM or key objects) accepted for ``private_key_jwt`` assertions.
        self.client_keys: list[Any] = []
        #: None, or one of ``FAULTS``.
        self.fault: str | None = None
        #: Seconds the ``slow`` fault waits.
        self.delay = 2.0
        self._tokens: dict[str, dict[str, Any]] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        self._calls = 0

    @property
    def calls(self) -> int:
        """Introspection requests answered so far (any status)."""
        return self._calls

    def mint(
        self,
        *,
        sub: str | None = "dev-user",
        scopes: Iterable[str] = (),
        audience: str | list[str] | None = None,
        expires_in: float = 3600,
        client_id: str = "dev-client",
        claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> str:
        """A fresh opaque token; its introspection answer has these members (None removes)."""
        issued = int(time.time() if now is None else now)
        members: dict[str, Any] = {
            "active": True,
            "iss": self.issuer,
            "sub": sub,
            "aud": audience if audience is not None else self.audience,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
            "iat": issued,
            "exp": int(issued + expires_in),
        }
        members.update(claims or {})
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = {k: v for k, v in members.items() if v is not None}
        return token

    def revoke(self, token: str) -> None:
        """Introspect *token* as inactive from now on."""
        with self._lock:
            self._revoked.add(token)

    def answer_for(self, token: str) -> dict[str, Any]:
        """What the endpoint says about *token* now (RFC 7662 §2.2)."""
        with self._lock:
            members = self._tokens.get(token)
            revoked = token in self._revoked
        if members is None or revoked or members.get("exp", float("inf")) <= time.time():
            return {"active": False}
        return dict(members)

    def handle(self, authorization: str | None, body: bytes) -> tuple[int, bytes]:
        """Answer one introspection POST: (status, JSON body). Counts the call."""
        with self._lock:
            self._calls += 1
        if self.fault == "slow":
            time.sleep(self.delay)
        elif self.fault == "error":
            return 500, b'{"error":"server_error"}'
        elif self.fault == "garbage":
            return 200, b"<html>not json"
        form = {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()}
        if not self._client_ok(authorization, form):
            return 401, b'{"error":"invalid_client"}'
        token = form.get("token")
        if not token:
            return 400, b'{"error":"invalid_request"}'
        answer = self.answer_for(token)
        if self.fault == "inactive-shape":
            answer.pop("active")
        return 200, json.dumps(answer).encode()

    def http_answer(
        self, authorization: str | None, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """``handle`` as status, headers and body (for the issuer's HTTP faces)."""
        status, answer = self.handle(authorization, body)
        return status, [("content-type", "application/json"), ("cache-control", "no-store")], answer

    def _client_ok(self, authorization: str | None, form: Mapping[str, str]) -> bool:
        if authorization and authorization[:6].lower() == "basic ":
            try:
                pair = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError:
                return False
            client_id, _, secret = pair.partition(":")
            return (unquote_plus(client_id), unquote_plus(secret)) == (
                self.client_id,
                self.client_secret,
            )
        if form.get("client_assertion_type") == _ASSERTION_TYPE:
            return self._assertion_ok(form.get("client_assertion", ""))
        return (form.get("client_id"), form.get("client_secret")) == (
            self.client_id,
            self.client_secret,
        )

    def _assertion_ok(self, assertion: str) -> bool:
        for key in self.client_keys:
            try:
                claims = jwt.decode(
                    assertion,
                    key,
                    algorithms=["RS256", "ES256", "EdDSA"],
                    options={"verify_aud": False},
                )
            except jwt.PyJWTError:
                continue
            return bool(claims.get("iss") == claims.get("sub") == self.client_id)
        return False
