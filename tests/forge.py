"""Forging tokens for the attack suite: any header, any payload, any signature.

PyJWT's ``encode`` refuses most of what an attacker sends (duplicate members, raw
JSON text, foreign signatures), so the attack tables build tokens by hand here and
sign them, when a row needs a *valid* signature, with PyJWT's algorithm classes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms

from jwtgate import JWTGateMiddleware, Settings
from jwtgate.testing import DevKey, Issuer

from helpers import AUDIENCE, ISSUER_URL, first_challenge, protected_app

ALGORITHMS = get_default_algorithms()
#: Everything the victim issuer may legitimately be asked for.
ISSUER_PATHS = frozenset(("/.well-known/openid-configuration", "/.well-known/jwks.json"))
#: An RFC 6750 challenge: ``Bearer`` then comma-separated ``name="quoted-string"`` pairs.
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
CHALLENGE = re.compile(rf"(?:Bearer|DPoP) [a-z_]+={_QUOTED}(?:, [a-z_]+={_QUOTED})*")


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _text(part: object) -> bytes:
    # A str is sent verbatim (raw JSON text, duplicates and all); anything else is dumped.
    if isinstance(part, bytes):
        return part
    # Lone surrogates in a str become their (invalid) UTF-8 spelling: hostile input too.
    if isinstance(part, str):
        return part.encode("utf-8", "surrogatepass")
    return json.dumps(part).encode()


def forge(header: object, payload: object, signature: bytes = b"\x00" * 256) -> str:
    """A token with exactly these parts and this (usually bogus) signature."""
    return f"{b64(_text(header))}.{b64(_text(payload))}.{b64(signature)}"


def sign(header: object, payload: object, key: DevKey, alg: str | None = None) -> str:
    """A token over these exact parts with a *valid* signature by *key*."""
    signing_input = f"{b64(_text(header))}.{b64(_text(payload))}"
    signature = ALGORITHMS[alg or key.alg].sign(signing_input.encode(), key.private_key)
    return f"{signing_input}.{b64(signature)}"


def hmac_sign(header: object, payload: object, secret: bytes, digest: Any = hashlib.sha256) -> str:
    """HS* by hand: PyJWT rightly refuses PEM and JWK text as HMAC secrets."""
    signing_input = f"{b64(_text(header))}.{b64(_text(payload))}"
    mac = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(mac)}"


def with_signature(token: str, signature: bytes | str) -> str:
    head = token.rsplit(".", 1)[0]
    return f"{head}.{signature if isinstance(signature, str) else b64(signature)}"


def with_payload(token: str, payload: object) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64(_text(payload))}.{signature}"


def signature_of(token: str) -> bytes:
    return unb64(token.rsplit(".", 1)[1])


@cache
def attacker(alg: str = "RS256", kid: str = "rsa-1") -> DevKey:
    """A key the attacker owns (same default ``kid`` as the victim's RSA key)."""
    return DevKey.generate(alg, kid=kid)


@cache
def weak_rsa(bits: int = 1024) -> DevKey:
    """An RSA key below the 2048-bit minimum (RFC 7518 §3.3)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return DevKey(kid=f"rsa-{bits}", alg="RS256", private_key=private)


class TamperedIssuer(Issuer):
    """The victim issuer, whose JWKS *edit* may add or change keys."""

    edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None

    def jwks(self) -> dict[str, Any]:
        keys = super().jwks()["keys"]
        return {"keys": self.edit(keys) if self.edit else keys}


@dataclass
class Kit:
    """The victim (issuer with RSA, EC P-256 and Ed25519 keys) and helpers to attack it."""

    issuer: TamperedIssuer
    rsa: DevKey
    ec: DevKey
    ed: DevKey
    now: int = field(default_factory=lambda: int(time.time()))

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid RFC 9068 claims; a None override removes the claim."""
        claims: dict[str, Any] = {
            "iss": ISSUER_URL,
            "sub": "alice",
            "aud": AUDIENCE,
            "client_id": "client-1",
            "iat": self.now,
            "exp": self.now + 3600,
            "jti": "jti-1",
            "scope": "items:read",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def header(self, key: DevKey | None = None, **overrides: Any) -> dict[str, Any]:
        key = key or self.rsa
        header: dict[str, Any] = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
        header.update(overrides)
        return {k: v for k, v in header.items() if v is not None}

    def token(self, key: DevKey | None = None, *, header: Any = None, **claims: Any) -> str:
        """A valid token by the victim's *key* (RSA by default), claims overridden."""
        key = key or self.rsa
        return sign(self.header(key, **(header or {})), self.claims(**claims), key)

    def app(self, settings: Settings | None = None) -> JWTGateMiddleware:
        return JWTGateMiddleware(
            protected_app(),
            settings or self.issuer.settings(),
            transport=self.issuer.transport(),
        )

    async def request(
        self,
        headers: Iterable[tuple[bytes, bytes]] = (),
        *,
        path: str = "/items",
        settings: Settings | None = None,
    ) -> httpx.Response:
        """Send one request through the real middleware (in-process, no socket)."""
        transport = httpx.ASGITransport(self.app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path, headers=list(headers))

    async def send(self, token: str, **kwargs: Any) -> httpx.Response:
        return await self.request([(b"authorization", b"Bearer " + token.encode())], **kwargs)


def make_kit(rsa_key: DevKey, ec_key: DevKey, ed_key: DevKey) -> Kit:
    issuer = TamperedIssuer(ISSUER_URL, audience=AUDIENCE, keys=[rsa_key, ec_key, ed_key])
    return Kit(issuer=issuer, rsa=rsa_key, ec=ec_key, ed=ed_key)


def assert_answer(
    response: httpx.Response,
    status: int,
    error: str,
    *,
    secrets: Iterable[str] = (),
    caplog: pytest.LogCaptureFixture | None = None,
    issuer: Issuer | None = None,
) -> None:
    """The RFC 6750 answer, and no leak: no secret in the answer or the logs, nothing fetched."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body.get("error_description"), str)
    challenge = first_challenge(response) if status != 503 else None
    if status == 503:
        assert "retry-after" in response.headers
    elif error == "unauthorized":
        assert challenge == 'Bearer realm="api"'
    else:
        assert challenge is not None
        assert CHALLENGE.fullmatch(challenge), challenge
        assert challenge.startswith(f'Bearer error="{error}", error_description="')
    answer = response.text + (challenge or "")
    assert "Traceback" not in answer
    assert "Error" not in body["error_description"]  # No exception names or reprs either.
    for secret in secrets:
        for piece in _pieces(secret):
            assert piece not in answer, f"the answer echoes {piece!r}"
            if caplog is not None:
                assert piece not in caplog.text, f"the logs contain {piece!r}"
    if issuer is not None:
        fetched = set(issuer.requests)
        assert fetched <= ISSUER_PATHS, f"fetched {fetched - ISSUER_PATHS}"


def _pieces(secret: str) -> Iterable[str]:
    # The whole token, and each long segment: a log line quoting a part leaks too.
    yield secret
    yield from (part for part in secret.split(".") if len(part) >= 16)


def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
