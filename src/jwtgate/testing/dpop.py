"""DPoP for tests: proofs, bound tokens and an httpx auth that sends them.

    key = DevKey.generate("ES256")                     # the client's proof key
    token = issuer.mint(scopes=["items:read"], dpop_key=key)   # cnf.jkt = key's thumbprint
    client = app_client(app, issuer, dpop_key=key)
    client.get("/items", headers={"Authorization": f"DPoP {token}"})  # proof added

``dpop_proof`` builds one proof for a method and URL (every claim overridable, for
negative tests); ``DPoPAuth`` adds a fresh proof to each request and, when the server
asks for a nonce (``use_dpop_nonce``), retries once with it.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Generator, Mapping
from typing import Any

import httpx
import jwt

from .issuer import DevKey

__all__ = ["DPoPAuth", "dpop_headers", "dpop_proof", "proof_jwk"]

_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def proof_jwk(key: DevKey) -> dict[str, Any]:
    """The public JWK a proof carries: the key's required members only (RFC 7638)."""
    jwk = key.public_jwk
    return {member: jwk[member] for member in _MEMBERS[jwk["kty"]]}


def _htu(url: str) -> str:
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def dpop_proof(
    key: DevKey,
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
    iat: float | None = None,
    jti: str | None = None,
    claims: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A DPoP proof (RFC 9449 §4.2) signed with *key* for *method* and *url*.

    *access_token* adds ``ath``; *nonce* the server's nonce. *claims* and *headers*
    override or add members (None removes one), to build invalid proofs in tests.
    """
    payload: dict[str, Any] = {
        "jti": jti or uuid.uuid4().hex,
        "htm": method,
        "htu": _htu(url),
        "iat": int(time.time() if iat is None else iat),
    }
    if access_token is not None:
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        payload["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if nonce is not None:
        payload["nonce"] = nonce
    payload.update(claims or {})
    header: dict[str, Any] = {"typ": "dpop+jwt", "jwk": proof_jwk(key)}
    header.update(headers or {})
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None},
        key.private_key,
        algorithm=str(header.pop("alg", key.alg)),
        headers={k: v for k, v in header.items() if v is not None},
    )


def dpop_headers(
    token: str, key: DevKey, method: str, url: str, *, nonce: str | None = None
) -> dict[str, str]:
    """``Authorization: DPoP <token>`` and a fresh ``DPoP`` proof for *method* and *url*."""
    proof = dpop_proof(key, method, url, access_token=token, nonce=nonce)
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


class DPoPAuth(httpx.Auth):
    """httpx auth: a fresh DPoP proof for each request made with the ``DPoP`` scheme.

    With *token*, every request is sent as ``Authorization: DPoP <token>``; without,
    only requests whose ``Authorization`` header already uses the DPoP scheme and
    that carry no ``DPoP`` header yet get a proof (one set by the test is sent as is).
    A ``use_dpop_nonce`` answer is retried once with the server's nonce, which is
    then kept for the next requests.
    """

    def __init__(self, key: DevKey, token: str | None = None) -> None:
        self.key = key
        self.token = token
        self.nonce: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the proof; on ``use_dpop_nonce``, retry once with the nonce sent."""
        token = self.token
        if token is None:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "dpop" or not credentials.strip() or "dpop" in request.headers:
                yield request
                return
            token = credentials.strip()
        request.headers["Authorization"] = f"DPoP {token}"
        self._sign(request, token)
        response = yield request
        nonce = response.headers.get("dpop-nonce")
        if nonce is not None and nonce != self.nonce:
            self.nonce = nonce
            if response.status_code in (400, 401) and "use_dpop_nonce" in str(
                response.headers.get_list("www-authenticate")
            ):
                self._sign(request, token)
                yield request

    def _sign(self, request: httpx.Request, token: str) -> None:
        request.headers["DPoP"] = dpop_proof(
            self.key, request.method, str(request.url), access_token=token, nonce=self.nonce
        )
